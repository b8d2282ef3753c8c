/** The fake OneBot implementation: forward WebSocket, HTTP API, HTTP POST delivery, event shapes. */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  imageSegment,
  messageEvent,
  type OneBot,
  recordSegment,
  startOneBot,
  toCqString,
} from '../src/index.js';

const bots: OneBot[] = [];
afterEach(async () => {
  await Promise.all(bots.splice(0).map((b) => b.close()));
});
async function bot(options: Parameters<typeof startOneBot>[0] = {}): Promise<OneBot> {
  const b = await startOneBot(options);
  bots.push(b);
  return b;
}

function open(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ ws: WebSocket; messages: unknown[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const messages: unknown[] = [];
    ws.on('message', (raw) => messages.push(JSON.parse(String(raw))));
    ws.once('open', () => resolve({ ws, messages }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}
const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('startOneBot', () => {
  it('forward WebSocket: token checked at the upgrade, lifecycle first, events pushed, API answered with echo', async () => {
    const b = await bot({ token: 't0k', actions: { get_rkey: (p) => ({ echoed: p.x }) } });
    await expect(open(b.wsUrl)).rejects.toThrow('HTTP 401');
    await expect(open(b.wsUrl, { authorization: 'Bearer nope' })).rejects.toThrow('HTTP 401');
    expect(b.refused).toBe(2);

    const { ws, messages } = await open(b.wsUrl, { authorization: 'Bearer t0k' });
    await b.waitForConnections(1);
    const event = messageEvent({ segments: [imageSegment({ url: 'https://h/a.png', file_size: 3 })] });
    await b.emit(event);
    ws.send(JSON.stringify({ action: 'get_rkey', params: { x: 7 }, echo: 'e1' }));
    ws.send(JSON.stringify({ action: 'no_such', params: {}, echo: 'e2' }));
    await until(() => messages.length >= 4);
    expect(messages[0]).toMatchObject({
      post_type: 'meta_event',
      meta_event_type: 'lifecycle',
      sub_type: 'connect',
    });
    expect(messages[1]).toMatchObject({ post_type: 'message', self_id: b.selfId, message: event.message });
    // Answers are matched by `echo` (they may come back in any order, as from a real implementation).
    const byEcho = (echo: string) => messages.find((m) => (m as { echo?: string }).echo === echo);
    expect(byEcho('e1')).toEqual(expect.objectContaining({ status: 'ok', retcode: 0, data: { echoed: 7 } }));
    expect(byEcho('e2')).toEqual(expect.objectContaining({ status: 'failed', retcode: 1404 }));
    expect(b.calls).toEqual(['get_rkey', 'no_such']);
    expect(b.requests[0]).toEqual({ action: 'get_rkey', params: { x: 7 }, via: 'ws' });
    ws.close();
  });

  it('`/api` takes calls but gets no events; `?access_token=` is accepted', async () => {
    const b = await bot({ token: 't0k' });
    const { ws, messages } = await open(`${b.wsUrl}/api?access_token=t0k`);
    expect(b.connections()).toBe(0);
    await b.emit(messageEvent({ segments: [] }));
    ws.send(JSON.stringify({ action: 'get_login_info', echo: 1 }));
    await until(() => messages.length >= 1);
    expect(messages).toEqual([
      expect.objectContaining({ data: { user_id: b.selfId, nickname: 'detour-lab' } }),
    ]);
    ws.close();
  });

  it('HTTP API: POST JSON or GET query, 401 without the token, calls recorded (refused ones too)', async () => {
    const b = await bot({ token: 't0k', actions: { echo: (p) => p } });
    const auth = { authorization: 'Bearer t0k', 'content-type': 'application/json' };
    const post = await fetch(`${b.url}/echo`, { method: 'POST', headers: auth, body: '{"a":1}' });
    expect(await post.json()).toMatchObject({ status: 'ok', data: { a: 1 } });
    const get = await fetch(`${b.url}/echo?b=2&access_token=t0k`);
    expect(await get.json()).toMatchObject({ data: { b: '2' } });
    const denied = await fetch(`${b.url}/echo`, { method: 'POST', body: '{}' });
    expect(denied.status).toBe(401);
    expect(await denied.json()).toMatchObject({ status: 'failed', retcode: 1403 });
    expect(b.calls).toEqual(['echo', 'echo', 'echo']);
    expect(b.requests).toHaveLength(2);
  });

  it('HTTP POST delivery: X-Self-ID and the HMAC-SHA1 X-Signature of the exact body', async () => {
    const received: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    try {
      const b = await bot({
        secret: 's3',
        postUrl: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/`,
      });
      expect(await b.emit({ post_type: 'notice', notice_type: 'x' })).toBe(204);
      const [{ headers, body }] = received as [(typeof received)[0]];
      expect(headers['x-self-id']).toBe(String(b.selfId));
      expect(headers['x-signature']).toBe(`sha1=${createHmac('sha1', 's3').update(body).digest('hex')}`);
      expect(JSON.parse(body)).toEqual({ self_id: b.selfId, post_type: 'notice', notice_type: 'x' });
    } finally {
      hook.close();
    }
  });
});

describe('OneBot event shapes', () => {
  it('CQ strings escape & [ ] everywhere and , in parameters', () => {
    expect(
      toCqString([
        { type: 'text', data: { text: 'a&b [c], d' } },
        imageSegment({ url: 'https://h/d?x=1&rkey=K', file: 'p,q.png', file_size: 5 }),
        recordSegment({ url: 'https://h/v' }),
      ]),
    ).toBe(
      'a&amp;b &#91;c&#93;, d[CQ:image,summary=,file=p&#44;q.png,sub_type=0,url=https://h/d?x=1&amp;rkey=K,file_size=5]' +
        '[CQ:record,file=lab.amr,path=,url=https://h/v]',
    );
  });

  it('message events as NapCat sends them: string file_size, raw_message always CQ', () => {
    const e = messageEvent({
      segments: [imageSegment({ url: 'https://h/a', file_size: 9 })],
      format: 'array',
    });
    expect(e).toMatchObject({
      post_type: 'message',
      message_type: 'group',
      message_format: 'array',
      group_id: 20_002,
    });
    expect((e.message as Array<{ data: { file_size: string } }>)[0]!.data.file_size).toBe('9');
    expect(e.raw_message).toMatch(/^\[CQ:image,/);
    const s = messageEvent({ segments: [], format: 'string', messageType: 'private' });
    expect(s).toMatchObject({ message_type: 'private', message: '', sub_type: 'friend' });
    expect(s).not.toHaveProperty('group_id');
  });
});
