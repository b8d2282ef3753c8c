/**
 * `convert=wav` and `convert=mp3` through detour serve: the Tencent twin serves a real SILK clip (a
 * tone of known length, encoded in the test) as `audio/amr`; the service answers `audio/wav` (or
 * `audio/mpeg`, its frames walked) with an `X-Detour-Converted` header, the file's SHA-256, and the
 * right length and rate. A corrupt clip answers 422 / DETOUR_DECODE_FAILED; a rate the decoder
 * does not make, or a target Detour has not, 400.
 */
import { createHash } from 'node:crypto';
import { wavInfo } from '@detour/core/internal';
import {
  interceptLookup,
  labCerts,
  makeSilkClip,
  readMp3Frames,
  startTencentTwin,
  TENCENT_TWIN_NAMES,
  type TencentTwin,
} from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DetourServer, startServer } from '../src/index.js';
import { call } from './http.js';

const TONE_MS = 2_500;
const LONG_TONE_MS = 5_000; // for MP3: its frames also hold LAME's delay and padding
let twin: TencentTwin;
let restoreLookup: () => void;
let server: DetourServer;
let clip: Buffer;

beforeAll(async () => {
  clip = await makeSilkClip(TONE_MS);
  const corrupt = Buffer.from(clip);
  corrupt.writeUInt16LE(0x7000, 10);
  restoreLookup = interceptLookup(Object.fromEntries(TENCENT_TWIN_NAMES.map((n) => [n, '127.0.0.1'])));
  twin = await startTencentTwin({
    files: {
      voice: { bytes: clip, appid: 1402, contentType: 'audio/amr' },
      long: { bytes: await makeSilkClip(LONG_TONE_MS), appid: 1402, contentType: 'audio/amr' },
      corrupt: { bytes: corrupt, appid: 1402, contentType: 'audio/amr' },
    },
  });
  server = await startServer({
    port: 0,
    redetectMs: 0,
    detour: {
      allowPrivateNetwork: true,
      proxy: false,
      ca: labCerts().ca.cert,
      env: {},
      logLevel: 'silent',
      strategies: ['direct'],
    },
  });
}, 60_000);
afterAll(async () => {
  await server?.close(1000);
  await twin?.close();
  restoreLookup?.();
});

const q = (url: string, extra = '') => `${server.url}/v1/fetch?url=${encodeURIComponent(url)}${extra}`;

describe('convert=wav and convert=mp3 through detour serve', () => {
  it('GET …&convert=wav&sampleRate=16000: audio/wav, X-Detour-Converted, the WAV of the tone', async () => {
    const answer = await call(q(twin.downloadUrl('voice'), '&expect=audio&convert=wav&sampleRate=16000'));
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('audio/wav');
    expect(answer.headers['x-detour-format']).toBe('wav');
    const info = wavInfo(answer.body);
    expect(info).toMatchObject({ sampleRate: 16_000, channels: 1, bitsPerSample: 16 });
    expect(Math.abs(info!.durationMs - TONE_MS) / TONE_MS).toBeLessThan(0.05);
    expect(JSON.parse(String(answer.headers['x-detour-converted']))).toEqual({
      from: 'silk',
      to: 'wav',
      durationMs: info!.durationMs,
      sampleRate: 16_000,
    });
    expect(answer.headers['x-detour-sha256']).toBe(createHash('sha256').update(answer.body).digest('hex'));
    expect(Number(answer.headers['content-length'])).toBe(answer.body.length);
  });

  it('POST {convert: "wav"}: 24000 Hz by default; without convert the SILK bytes as they are', async () => {
    const url = twin.downloadUrl('voice');
    const wav = await call(`${server.url}/v1/fetch`, { body: { url, convert: 'wav' } });
    expect(wav.status).toBe(200);
    expect(wavInfo(wav.body)?.sampleRate).toBe(24_000);
    const raw = await call(q(url));
    expect(raw.status).toBe(200);
    expect(raw.headers['x-detour-converted']).toBeUndefined();
    expect(raw.headers['content-type']).toBe('audio/amr');
    expect(raw.body.equals(clip)).toBe(true);
  });

  it('GET …&convert=mp3: audio/mpeg, X-Detour-Converted, MPEG Layer III frames of the tone', async () => {
    const answer = await call(q(twin.downloadUrl('long'), '&expect=audio&convert=mp3'));
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('audio/mpeg');
    expect(answer.headers['x-detour-format']).toBe('mp3');
    const frames = readMp3Frames(answer.body);
    expect(frames).toMatchObject({ version: 'MPEG-2', layer: 3, sampleRate: 24_000, mono: true });
    expect(Math.abs(frames.durationMs - LONG_TONE_MS) / LONG_TONE_MS).toBeLessThan(0.05);
    expect(JSON.parse(String(answer.headers['x-detour-converted']))).toEqual({
      from: 'silk',
      to: 'mp3',
      durationMs: frames.durationMs,
      sampleRate: 24_000,
    });
    expect(answer.headers['x-detour-sha256']).toBe(createHash('sha256').update(answer.body).digest('hex'));
    expect(Number(answer.headers['content-length'])).toBe(answer.body.length);
    const bad = await call(`${server.url}/v1/fetch`, {
      body: { url: twin.downloadUrl('corrupt'), convert: 'mp3', sampleRate: 48_000 },
    });
    expect(bad.status).toBe(422);
    expect(bad.json().error).toMatchObject({ code: 'DETOUR_DECODE_FAILED' });
  });

  it('a corrupt clip: 422 DETOUR_DECODE_FAILED; a bad rate or target: 400 before any request', async () => {
    const bad = await call(q(twin.downloadUrl('corrupt'), '&convert=wav'));
    expect(bad.status).toBe(422);
    expect(bad.json().error).toMatchObject({ failureClass: 'content-invalid', code: 'DETOUR_DECODE_FAILED' });
    twin.hits.length = 0;
    for (const extra of ['&convert=wav&sampleRate=22050', '&convert=ogg', '&convert=mp3&sampleRate=11025']) {
      const answer = await call(q(twin.downloadUrl('voice'), extra));
      expect(answer.status, extra).toBe(400);
      expect(answer.json().error).toMatchObject({ code: 'DETOUR_BAD_REQUEST' });
    }
    const body = await call(`${server.url}/v1/fetch`, {
      body: { url: twin.downloadUrl('voice'), convert: 'wav', sampleRate: 22_050 },
    });
    expect(body.status).toBe(400);
    expect(twin.hits).toHaveLength(0);
  });
});
