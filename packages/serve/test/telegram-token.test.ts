/**
 * A Telegram bot token through the service: it appears in no body, header, metrics or recent-fetch
 * listing (masked as `bot***`). The Telegram twin is reached through its real name
 * (api.telegram.org; resolution intercepted in this process, fail closed for other Telegram names).
 */
import {
  interceptLookup,
  labCerts,
  makePng,
  startTelegramTwin,
  TELEGRAM_TWIN_NAMES,
  type TelegramTwin,
} from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DetourServer, startServer } from '../src/index.js';
import { type Answer, call } from './http.js';

let twin: TelegramTwin;
let restoreLookup: () => void;
let server: DetourServer;
const PHOTO = makePng(24);

beforeAll(async () => {
  restoreLookup = interceptLookup(Object.fromEntries(TELEGRAM_TWIN_NAMES.map((n) => [n, '127.0.0.1'])));
  twin = await startTelegramTwin({ files: { photo: { bytes: PHOTO } } });
  server = await startServer({
    port: 0,
    redetectMs: 0,
    detour: {
      allowPrivateNetwork: true, // the real name resolves to 127.0.0.1 here
      proxy: false,
      ca: labCerts().ca.cert,
      env: {},
      logLevel: 'silent',
      strategies: ['direct'],
      telegramToken: twin.token,
      telegramApiBase: twin.apiBase,
    },
  });
});
afterAll(async () => {
  await server?.close(1000);
  await twin?.close();
  restoreLookup?.();
});

const everything = (a: Answer) =>
  `${JSON.stringify(a.headers)}${JSON.stringify(a.trailers)}${a.body.toString('latin1')}`;

describe('a Telegram token through detour serve', () => {
  it('a dead file link: url-expired, the token in no body, header, metrics or listing', async () => {
    const url = `${twin.apiBase}/file/bot${twin.token}/photos/gone.jpg`;
    const answer = await call(`${server.url}/v1/fetch?url=${encodeURIComponent(url)}`);
    expect(answer.status).toBe(410);
    expect(answer.json()).toMatchObject({ ok: false, error: { failureClass: 'url-expired' } });
    expect(answer.body.toString()).toContain('bot***');
    const posted = await call(`${server.url}/v1/fetch`, { body: { url } });
    const metrics = await call(`${server.url}/metrics`);
    const recent = await call(`${server.url}/v1/recent`);
    for (const a of [answer, posted, metrics, recent]) expect(everything(a)).not.toContain(twin.token);
    expect(recent.status).toBe(200);
  });

  it('a good file link: the file, and the token in no header', async () => {
    const url = twin.fileUrl('photo');
    const answer = await call(`${server.url}/v1/fetch?url=${encodeURIComponent(url)}`);
    expect(answer.status).toBe(200);
    expect(answer.body.equals(PHOTO)).toBe(true);
    expect(JSON.stringify(answer.headers) + JSON.stringify(answer.trailers)).not.toContain(twin.token);
    const recent = await call(`${server.url}/v1/recent`);
    expect(everything(recent)).not.toContain(twin.token);
  });
});
