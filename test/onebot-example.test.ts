/**
 * examples/onebot-images.ts against the lab's fake OneBot implementation (startOneBot: forward
 * WebSocket with a token, HTTP POST with a signature, the rkey actions of the Tencent twin) and real
 * origins: a legacy-TLS lab origin, and the Tencent twin reached through its real names inside a
 * private mount namespace (its /etc/hosts maps them to 127.0.0.1; no other name resolves).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  hostsNamespace,
  hostsNamespaceSupport,
  imageSegment,
  LAB_PNG,
  type Lab,
  makePng,
  messageEvent,
  type OneBot,
  recordSegment,
  startLab,
  startOneBot,
  startTencentTwin,
  TENCENT_TWIN_NAMES,
  type TencentTwin,
} from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cqUnescape,
  type FileReport,
  mediaOf,
  parseCqString,
  signatureOk,
} from '../examples/onebot-images.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
const TOKEN = 'lab-onebot-token';
const PICTURE = makePng(48);
const SILK = Buffer.concat([Buffer.from([0x02]), Buffer.from('#!SILK_V3'), randomBytes(3_000)]);

let lab: Lab;
let dir: string;

beforeAll(async () => {
  lab = await startLab();
  dir = mkdtempSync(join(tmpdir(), 'detour-onebot-'));
});
afterAll(async () => {
  await lab?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Resolves with the first stderr line matching `pattern`. */
  stderrLine(pattern: RegExp): Promise<string>;
}

function runExample(
  args: string[],
  prefix?: { wrap(c: string, a: readonly string[]): { command: string; args: string[] } },
): Run {
  const full = ['examples/onebot-images.ts', ...args];
  const { command, args: argv } = prefix ? prefix.wrap(tsx, full) : { command: tsx, args: full };
  const child = spawn(command, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const watchers: Array<() => void> = [];
  const lines = (into: string[]) => {
    let buffered = '';
    return (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      into.push(...parts.filter(Boolean));
      for (const w of watchers) w();
    };
  };
  child.stdout!.on('data', lines(stdout));
  child.stderr!.on('data', lines(stderr));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  void exited.then(() => clearTimeout(timer));
  return {
    child,
    stdout,
    stderr,
    exited,
    stderrLine: (pattern) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const line = stderr.find((l) => pattern.test(l));
          if (line) resolve(line);
        };
        watchers.push(check);
        check();
        void exited.then(() => reject(new Error(`exited before ${pattern}: ${stderr.join('\n')}`)));
      }),
  };
}

const reports = (run: Run) => run.stdout.map((line) => JSON.parse(line) as FileReport);

describe('examples/onebot-images.ts', () => {
  const namespace = hostsNamespaceSupport();

  it.skipIf(namespace !== true)(
    `forward WebSocket: arrays and CQ strings, legacy TLS rescued, an expired rkey refreshed, a voice clip (${namespace === true ? 'namespace ok)' : `) — skipped: ${namespace}`}`,
    async () => {
      const twin: TencentTwin = await startTencentTwin({
        files: {
          picture: { bytes: PICTURE, appid: 1407, contentType: 'application/octet-stream' },
          voice: { bytes: SILK, appid: 1402, contentType: 'audio/amr' },
        },
        onebotToken: TOKEN,
      });
      const hosts = hostsNamespace(Object.fromEntries(TENCENT_TWIN_NAMES.map((n) => [n, '127.0.0.1'])));
      const out = join(dir, 'ws');
      try {
        const onebot: OneBot = twin.onebot;
        const run = runExample(
          [
            ...['--ws', onebot.wsUrl, '--token', TOKEN, '--api', onebot.url],
            ...[
              '--no-proxy',
              '--allow-private',
              '--ca',
              lab.caPath,
              '--out',
              out,
              '--json',
              '--exit-after',
              '3',
            ],
          ],
          hosts,
        );
        await onebot.waitForConnections(1, 60_000);
        expect(onebot.refused).toBe(0);

        // 1. Segment array: an image on a legacy-TLS origin (Node's defaults refuse its handshake).
        const legacyUrl = `${lab.legacy.sha1Signatures.url}/image.png?from=onebot`;
        await onebot.emit(
          messageEvent({
            segments: [imageSegment({ url: legacyUrl, file: 'legacy.png', file_size: LAB_PNG.length })],
          }),
        );
        // 2. CQ-code string: a QQ picture whose rkey expired before the bot fetched it; the file
        //    name carries a comma (`&#44;` in CQ code).
        const expired = twin.downloadUrl('picture');
        twin.rotateKeys();
        await onebot.emit(
          messageEvent({
            format: 'string',
            segments: [
              { type: 'text', data: { text: 'look [here]' } },
              imageSegment({ url: expired, file: '{A1,B2}.png', file_size: PICTURE.length }),
            ],
          }),
        );
        // 3. A voice clip (SILK served as audio/amr) from the voice host.
        await onebot.emit(
          messageEvent({
            messageType: 'private',
            segments: [
              recordSegment({
                url: twin.downloadUrl('voice', { host: 'grouptalk.c2c.qq.com' }),
                file: 'voice.amr',
                file_size: SILK.length,
              }),
            ],
          }),
        );

        expect(await run.exited).toBe(0);
        const byFile = Object.fromEntries(reports(run).map((r) => [r.file, r]));
        expect(Object.keys(byFile).sort()).toEqual(['legacy.png', 'voice.amr', '{A1,B2}.png']);

        expect(byFile['legacy.png']).toMatchObject({
          ok: true,
          strategy: 'tls-relaxed',
          bytes: LAB_PNG.length,
        });
        expect(byFile['legacy.png']!.attempts[0]).toMatchObject({ strategy: 'direct', outcome: 'failed' });
        expect(lab.legacy.sha1Signatures.routes.hits('/image.png')).toBeGreaterThanOrEqual(1);

        const picture = byFile['{A1,B2}.png']!;
        expect(picture).toMatchObject({ ok: true, strategy: 'direct', bytes: PICTURE.length, format: 'png' });
        expect(picture.url).not.toContain(twin.rkeys.group); // logs never show an rkey
        expect(onebot.calls).toContain('nc_get_rkey');
        expect(readFileSync(picture.path!).equals(PICTURE)).toBe(true);

        expect(byFile['voice.amr']).toMatchObject({ ok: true, bytes: SILK.length, format: 'silk' });
        expect(readFileSync(byFile['voice.amr']!.path!).equals(SILK)).toBe(true);
        // The twin saw the expired key once, then the fresh one.
        const pictureHits = twin.hitsFor('picture').map((h) => h.status);
        expect(pictureHits).toEqual([400, 200]);
      } finally {
        hosts.close();
        await twin.close();
      }
    },
    120_000,
  );

  it('HTTP POST: a signed event is downloaded, an unsigned one is refused', async () => {
    const bot = await startOneBot({ secret: 'post-secret' });
    const impostor = await startOneBot({ secret: 'guessed' });
    try {
      const run = runExample([
        ...['--listen', '127.0.0.1:0', '--secret', 'post-secret'],
        ...['--no-proxy', '--allow-private', '--ca', lab.caPath, '--json', '--exit-after', '1'],
      ]);
      const listening = await run.stderrLine(/^listening on http:\/\/127\.0\.0\.1:\d+$/);
      const webhook = listening.replace('listening on ', '');
      bot.setPostUrl(webhook);
      impostor.setPostUrl(webhook);
      lab.https.routes.resetCounts();

      const forged = `${lab.https.url}/image.png?forged=1`;
      expect(await impostor.emit(messageEvent({ segments: [imageSegment({ url: forged })] }))).toBe(401);
      const url = `${lab.https.url}/image.png?signed=1`;
      expect(
        await bot.emit(
          messageEvent({ segments: [imageSegment({ url, file: 'signed.png', file_size: LAB_PNG.length })] }),
        ),
      ).toBe(204);

      expect(await run.exited).toBe(0);
      expect(reports(run)).toEqual([
        expect.objectContaining({ ok: true, file: 'signed.png', strategy: 'direct', bytes: LAB_PNG.length }),
      ]);
      expect(lab.https.routes.hits('/image.png')).toBe(1);
      expect(run.stderr.join('\n')).toMatch(/refused an event with a missing or wrong X-Signature/);
    } finally {
      await Promise.all([bot.close(), impostor.close()]);
    }
  }, 120_000);

  it('a wrong token is refused by the WebSocket: the example says so and exits 1', async () => {
    const bot = await startOneBot({ token: TOKEN });
    try {
      const run = runExample(['--ws', bot.wsUrl, '--token', 'wrong', '--no-proxy']);
      expect(await run.exited).toBe(1);
      expect(run.stderr.join('\n')).toMatch(/refused the connection: HTTP 401/);
      expect(run.stderr.join('\n')).not.toContain('wrong'); // the token is never printed
      expect(bot.refused).toBe(1);
    } finally {
      await bot.close();
    }
  }, 120_000);
});

describe('OneBot message parsing (pure)', () => {
  it('decodes CQ escapes once, `&amp;` last', () => {
    expect(cqUnescape('a&#44;b&#91;c&#93;&amp;d&amp;#44;')).toBe('a,b[c]&d&#44;');
  });

  it('splits a CQ string into text and coded segments', () => {
    expect(
      parseCqString(
        'hi &#91;x&#93;[CQ:image,file=a&#44;b.png,url=https://h/d?x=1&amp;rkey=K,file_size=12][CQ:face,id=1]!',
      ),
    ).toEqual([
      { type: 'text', data: { text: 'hi [x]' } },
      { type: 'image', data: { file: 'a,b.png', url: 'https://h/d?x=1&rkey=K', file_size: '12' } },
      { type: 'face', data: { id: '1' } },
      { type: 'text', data: { text: '!' } },
    ]);
  });

  it('finds images and voice clips in both forms, with file_size as the expected size', () => {
    const array = messageEvent({
      segments: [
        { type: 'text', data: { text: 'x' } },
        imageSegment({ url: 'https://h/a.png', file: 'a.png', file_size: 10 }),
        recordSegment({ url: 'https://h/v.amr', file: 'v.amr' }),
        { type: 'video', data: { file: 'v.mp4', url: '/app/.config/QQ/v.mp4' } },
      ],
    });
    const expected = [
      { kind: 'image', url: 'https://h/a.png', file: 'a.png', expectedBytes: 10 },
      { kind: 'record', url: 'https://h/v.amr', file: 'v.amr', expectedBytes: undefined },
    ];
    expect(mediaOf(array)).toEqual(expected);
    expect(mediaOf({ ...array, message: array.raw_message })).toEqual(expected);
    // A container path is no URL; meta events carry no media.
    expect(
      mediaOf({ post_type: 'message', message: [{ type: 'image', data: { file: 'x', url: '/tmp/x' } }] }),
    ).toEqual([]);
    expect(mediaOf({ post_type: 'meta_event', meta_event_type: 'heartbeat' })).toEqual([]);
  });

  it('checks the HMAC-SHA1 signature of posted events', () => {
    const body = Buffer.from('{"post_type":"message"}');
    const good = `sha1=${createHmac('sha1', 's').update(body).digest('hex')}`;
    expect(signatureOk('s', body, good)).toBe(true);
    expect(signatureOk('other', body, good)).toBe(false);
    expect(signatureOk('s', Buffer.from('{"post_type":"notice"}'), good)).toBe(false);
    expect(signatureOk('s', body, undefined)).toBe(false);
  });
});
