/**
 * The Telegram preset against the Telegram twin (packages/lab/src/telegram.ts): real HTTPS on
 * loopback reached through the real name api.telegram.org with a lab certificate; name resolution
 * is intercepted in this process and other Telegram names fail closed. The bot token must appear in
 * no output: errors, attempt records, debug logs, cache keys.
 */
import { randomBytes } from 'node:crypto';
import {
  createLogger,
  createPipeline,
  DetourError,
  type Pipeline,
  type PipelineOptions,
  redactUrl,
} from '@detour/core';
import { testPreset } from '@detour/core/testing';
import {
  interceptLookup,
  labCerts,
  makePng,
  startTelegramTwin,
  TELEGRAM_TWIN_NAMES,
  type TelegramTwin,
} from '@detour/lab';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TELEGRAM_MAX_FILE_BYTES, type TelegramPreset, telegramPreset } from '../src/index.js';

const PHOTO = makePng(40);
const DOC = Buffer.concat([makePng(4), randomBytes(2_000)]);
let twin: TelegramTwin;
let restoreLookup: () => void;
const pipelines: Pipeline[] = [];
let logs: string[] = [];

function setup(options: PipelineOptions = {}): { preset: TelegramPreset; pipeline: Pipeline } {
  const preset = telegramPreset({ token: twin.token, apiBase: twin.apiBase, ca: labCerts().ca.cert });
  const pipeline = createPipeline({
    allowPrivateNetwork: true, // the real name resolves to 127.0.0.1 here
    ca: labCerts().ca.cert,
    presets: [preset],
    strategies: ['direct'],
    logger: createLogger('debug', { write: (line) => logs.push(line) }),
    ...options,
  });
  pipelines.push(pipeline);
  return { preset, pipeline };
}

beforeAll(async () => {
  restoreLookup = interceptLookup(Object.fromEntries(TELEGRAM_TWIN_NAMES.map((n) => [n, '127.0.0.1'])));
  twin = await startTelegramTwin({
    files: {
      photo: { bytes: PHOTO },
      doc: { bytes: DOC, ext: 'bin' },
      huge: { bytes: Buffer.alloc(16), size: TELEGRAM_MAX_FILE_BYTES + 1 },
    },
  });
});
beforeEach(() => {
  twin.hits.length = 0;
  logs = [];
});
afterAll(async () => {
  await Promise.all(pipelines.map((p) => p.close()));
  await twin?.close();
  restoreLookup?.();
});

describe('telegramFile on the twin', () => {
  it('resolves through getFile and fetches; the cache key is file_unique_id', async () => {
    const { preset, pipeline } = setup();
    const result = await preset.telegramFile(twin.fileId('photo'), { pipeline });
    expect(result.body.equals(PHOTO)).toBe(true);
    expect(twin.hits.map((h) => [h.method, h.path.split('/').slice(0, 3).join('/'), h.status])).toEqual([
      ['POST', '/bot<token>/getFile', 200],
      ['GET', '/file/bot<token>', 200],
    ]);
    expect(preset.cacheKey?.(new URL(result.finalUrl))).toBe(`telegram:file:${twin.fileUniqueId('photo')}`);
    // `url`/`finalUrl` are the caller's own data (the CLI and serve print them masked); the records are output.
    expect(JSON.stringify(result.attempts)).not.toContain(twin.token);
    expect(logs.join('')).not.toContain(twin.token);
    const again = await preset.telegramFile(twin.fileId('photo'), { pipeline });
    expect(again.fromCache).toBe(true);
  });

  it('a 404 on the file link refreshes through getFile again', async () => {
    const { preset, pipeline } = setup({ cache: false });
    const file = await preset.getFile(twin.fileId('doc'));
    // The twin's own fileUrl (other tests' shortcut) is the link getFile gives, before and after expiry.
    expect(twin.fileUrl('doc')).toBe(file.url);
    twin.expireLinks();
    expect(twin.fileUrl('doc')).not.toBe(file.url);
    twin.hits.length = 0;
    const stale = await pipeline.fetch(file.url, {
      refreshUrl: async () => (await preset.getFile(twin.fileId('doc'))).url,
    });
    expect(stale.body.equals(DOC)).toBe(true);
    expect(twin.hits.map((h) => h.status)).toEqual([404, 200, 200]);
    expect(stale.attempts.map((a) => [a.strategy, a.outcome])).toEqual([
      ['direct', 'failed'],
      ['refresh', 'ok'],
      ['direct', 'ok'],
    ]);
    expect(JSON.stringify(stale.attempts)).not.toContain(twin.token);
    expect(logs.join('')).not.toContain(twin.token);
  });

  it('a file over the Bot API limit fails clearly before any download', async () => {
    const { preset, pipeline } = setup();
    const error = await preset.telegramFile(twin.fileId('huge'), { pipeline }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DetourError);
    expect(error).toMatchObject({ failureClass: 'too-large', code: 'DETOUR_TOO_LARGE' });
    expect((error as Error).message).toMatch(/20971520/);
    expect(twin.hits.map((h) => h.path.split('/')[2])).toEqual(['getFile']);
  });

  it('a dead link without a file_id ends url-expired; the token is in no output (error, attempts, debug logs)', async () => {
    const { pipeline } = setup({ cache: false });
    const url = `${twin.apiBase}/file/bot${twin.token}/photos/nothing.jpg`;
    const error = (await pipeline.fetch(url).catch((e: unknown) => e)) as DetourError;
    expect(error).toMatchObject({ failureClass: 'url-expired' });
    const everything = [
      error.message,
      error.stack,
      JSON.stringify(error),
      JSON.stringify(error.attempts),
      ...logs,
    ].join('\n');
    expect(everything).not.toContain(twin.token);
    expect(everything).toContain('bot***');
    expect(logs.length).toBeGreaterThan(0);
  });

  it('an unknown file_id: a clear error, the token masked', async () => {
    const { preset, pipeline } = setup();
    const error = (await preset.telegramFile('nope', { pipeline }).catch((e: unknown) => e)) as DetourError;
    expect(error).toMatchObject({ code: 'DETOUR_PLATFORM_API' });
    expect(error.message).toMatch(/invalid file_id/);
    expect(error.message).not.toContain(twin.token);
  });
});

describe('telegram preset, pure parts', () => {
  it('recognises the official host and apiBase, and refuses a malformed token', () => {
    const preset = telegramPreset({
      token: '123:abcdefghijklmnopqrstuvwxyz',
      apiBase: 'http://127.0.0.1:8081/tg',
    });
    expect(
      preset.handles(new URL('https://api.telegram.org/file/bot123:abcdefghijklmnopqrstuvwxyz/a/b.jpg')),
    ).toBe(true);
    expect(
      preset.handles(new URL('http://127.0.0.1:8081/tg/file/bot123:abcdefghijklmnopqrstuvwxyz/a.jpg')),
    ).toBe(true);
    expect(preset.handles(new URL('https://api.telegram.org/bot123:abc/getFile'))).toBe(false);
    expect(() => telegramPreset({ token: 'not a token' })).toThrow(/bot token/);
    expect(redactUrl('https://api.telegram.org/file/bot123:abcdefghijklmnopqrstuvwxyz/a.jpg')).toBe(
      'https://api.telegram.org/file/bot***/a.jpg',
    );
  });

  const token = '424242:AAEsecretTokenValue_0123456789';
  testPreset({
    label: 'telegram',
    preset: () => telegramPreset({ token }),
    handles: [`https://api.telegram.org/file/bot${token}/photos/file_1.jpg`],
    ignores: ['https://api.telegram.org/bot1:x/getMe', 'https://example.test/file/bot1:x/a.jpg'],
    sameCacheKey: [
      [
        `https://api.telegram.org/file/bot${token}/photos/file_1.jpg`,
        `https://api.telegram.org/file/bot${token}/photos/file_1.jpg`,
      ],
    ],
    secrets: [[`https://api.telegram.org/file/bot${token}/photos/file_1.jpg`, token]],
  });
});
