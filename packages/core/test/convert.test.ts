/**
 * `convert: 'wav'` end to end in the library: real SILK clips (a sine tone of known length,
 * encoded with the SILK encoder in the test) served by the Tencent twin as `audio/amr` over real
 * TLS, decoded in worker threads, delivered as WAV through fetch, toFile and stream, cached as a
 * derived entry beside the original.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buffer as drain } from 'node:stream/consumers';
import {
  DecoderPool,
  DetourError,
  decoderPool,
  type Pipeline,
  type PipelineOptions,
  silkLayout,
  wavInfo,
} from '@detour/core/internal';
import { makeSilkClip, type TencentTwin } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVoiceTwin, type VoiceTwin } from './voice-twin.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const TONE_MS = 3_000;

let twin: TencentTwin;
let dir: string;
let clip: Buffer;
let plain: Buffer;
let voice: VoiceTwin;
const pipeline = (options?: PipelineOptions): Pipeline => voice.pipeline(options);

async function failure(promise: Promise<unknown>): Promise<DetourError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DetourError);
  return error as DetourError;
}

/** The WAV's own header: PCM s16le mono, its rate, its length. */
function expectWav(body: Buffer, sampleRate: number, ms: number): void {
  const info = wavInfo(body);
  expect(info).toMatchObject({ sampleRate, channels: 1, bitsPerSample: 16 });
  expect(Math.abs(info!.durationMs - ms) / ms).toBeLessThan(0.05);
  expect(body.readUInt16LE(20)).toBe(1); // PCM
  expect(body.length).toBe(44 + Math.round((info!.durationMs / 1000) * sampleRate) * 2);
}

beforeAll(async () => {
  clip = await makeSilkClip(TONE_MS);
  plain = await makeSilkClip(1_000, { form: 'plain', sampleRate: 16_000 });
  const corrupt = Buffer.from(clip);
  corrupt.writeUInt16LE(2000, 10); // the first packet claims more than a packet may hold
  voice = await startVoiceTwin('detour-convert-', {
    voice: clip,
    plain,
    corrupt,
    garbled: Buffer.concat([clip.subarray(0, 10), randomBytes(4_000)]),
    amr: Buffer.concat([Buffer.from('#!AMR\n'), randomBytes(500)]),
  });
  twin = voice.twin;
  dir = voice.dir;
}, 60_000);
afterAll(() => voice?.close());

describe("convert: 'wav'", () => {
  it('the clip is real SILK in Tencent form: 150 packets of 20 ms', () => {
    expect(clip.subarray(0, 10).toString('latin1')).toBe('\x02#!SILK_V3');
    expect(silkLayout(clip)).toMatchObject({ packets: TONE_MS / 20, minDurationMs: TONE_MS });
  });

  it('fetch: SILK served as audio/amr comes back as WAV of the right length and rate, sha256 of the WAV', async () => {
    const p = pipeline();
    const r = await p.fetch(twin.downloadUrl('voice'), { expect: 'audio', convert: 'wav' });
    expect(r).toMatchObject({
      format: 'wav',
      contentType: 'audio/wav',
      fromCache: false,
      converted: { from: 'silk', to: 'wav', sampleRate: 24_000 },
    });
    expect(Math.abs(r.converted!.durationMs - TONE_MS) / TONE_MS).toBeLessThan(0.05);
    expectWav(r.body, 24_000, TONE_MS);
    expect(r.bytes).toBe(r.body.length);
    expect(r.sha256).toBe(sha256(r.body));
  });

  it('sampleRate, the plain #!SILK_V3 form, toFile and stream', async () => {
    const p = pipeline();
    const target = join(dir, 'plain.wav');
    const file = await p.toFile(twin.downloadUrl('plain'), target, { convert: 'wav', sampleRate: 16_000 });
    const written = readFileSync(target);
    expectWav(written, 16_000, 1_000);
    expect(file).toMatchObject({ format: 'wav', bytes: written.length, sha256: sha256(written) });
    expect(file.converted).toMatchObject({ from: 'silk', sampleRate: 16_000 });
    const streamed = await p.stream(twin.downloadUrl('voice'), { convert: 'wav', sampleRate: 48_000 });
    expect(streamed).toMatchObject({ format: 'wav', converted: { sampleRate: 48_000 } });
    expectWav(await drain(streamed.body), 48_000, TONE_MS);
  });

  it('the cache keeps the original; the conversion is a derived entry (no second download, no second decode)', async () => {
    const entries = new Map<string, string>();
    const log: string[] = [];
    const store = {
      get: async (key: string) => {
        log.push(`get ${entries.has(key) ? 'hit' : 'miss'}`);
        return entries.get(key);
      },
      set: async (key: string, value: string) => {
        log.push('set');
        entries.set(key, value);
      },
      delete: async (key: string) => entries.delete(key),
    };
    const p = pipeline({ cache: { memory: false, store } });
    const url = twin.downloadUrl('voice');
    twin.hits.length = 0;
    const first = await p.fetch(url, { convert: 'wav' });
    expect(first.fromCache).toBe(false);
    expect(log.filter((l) => l === 'set')).toHaveLength(2); // the original, then the WAV
    const original = await p.fetch(url);
    expect(original).toMatchObject({
      fromCache: true,
      format: 'silk',
      bytes: clip.length,
      sha256: sha256(clip),
    });
    expect(original.converted).toBeUndefined();
    log.length = 0;
    const again = await p.fetch(url, { convert: 'wav' });
    expect(again).toMatchObject({
      fromCache: true,
      format: 'wav',
      sha256: first.sha256,
      converted: first.converted,
    });
    expect(log).toEqual(['get hit']); // the derived entry answered: the original was not even read
    // Another rate is another derived entry, converted from the cached original.
    log.length = 0;
    const other = await p.fetch(url, { convert: 'wav', sampleRate: 8_000 });
    expect(other).toMatchObject({ fromCache: true, converted: { sampleRate: 8_000 } });
    expectWav(other.body, 8_000, TONE_MS);
    expect(log).toEqual(['get miss', 'get hit', 'set']);
    expect(twin.hitsFor('voice')).toHaveLength(1);
  });

  it('a corrupt clip fails as content-invalid / DETOUR_DECODE_FAILED and leaves no file', async () => {
    const p = pipeline();
    for (const name of ['corrupt', 'garbled']) {
      const target = join(dir, `${name}.wav`);
      const error = await failure(p.toFile(twin.downloadUrl(name), target, { convert: 'wav' }));
      expect(error).toMatchObject({ failureClass: 'content-invalid', code: 'DETOUR_DECODE_FAILED' });
      expect(existsSync(target)).toBe(false);
    }
    expect(readdirSync(dir).filter((f) => f.startsWith('.') || f.includes('tmp'))).toEqual([]);
    // The pool is not poisoned: the next clip converts.
    const ok = await p.fetch(twin.downloadUrl('voice'), { convert: 'wav', noCache: true });
    expectWav(ok.body, 24_000, TONE_MS);
  });

  it('AMR-NB (no maintained decoder) fails as DETOUR_CONVERT_UNSUPPORTED; a clip longer than maxDurationMs as too-large', async () => {
    const p = pipeline();
    const amr = await failure(p.fetch(twin.downloadUrl('amr'), { convert: 'wav' }));
    expect(amr).toMatchObject({ failureClass: 'content-invalid', code: 'DETOUR_CONVERT_UNSUPPORTED' });
    expect(amr.message).toMatch(/amr/);
    const long = await failure(p.fetch(twin.downloadUrl('voice'), { convert: 'wav', maxDurationMs: 1_000 }));
    expect(long).toMatchObject({ failureClass: 'too-large', code: 'DETOUR_AUDIO_TOO_LONG' });
  });

  it('bad options are usage errors before any request', async () => {
    const p = pipeline();
    twin.hits.length = 0;
    const url = twin.downloadUrl('voice');
    // biome-ignore lint/suspicious/noExplicitAny: a caller without types
    await expect(p.fetch(url, { convert: 'ogg' as any })).rejects.toMatchObject({
      code: 'DETOUR_BAD_OPTION',
    });
    await expect(p.fetch(url, { convert: 'wav', sampleRate: 22_050 })).rejects.toMatchObject({
      code: 'DETOUR_BAD_OPTION',
    });
    await expect(p.fetch(url, { sampleRate: 16_000 })).rejects.toMatchObject({ code: 'DETOUR_BAD_OPTION' });
    expect(twin.hits).toHaveLength(0);
  });

  it("the fetch's deadline covers the conversion: queued behind other clips, it times out while converting", async () => {
    const long = await makeSilkClip(20_000);
    const busy = new AbortController();
    // Keep every worker of the shared pool busy for far longer than the fetch may take: a 20 s clip
    // decodes in ~0.2 s on an idle core, so 300 of them are ~30 s of work for two workers.
    const blockers = Array.from({ length: 300 }, () =>
      decoderPool()
        .decode({ silk: long, sampleRate: 48_000, header: Buffer.alloc(44) }, busy.signal)
        .catch(() => undefined),
    );
    try {
      const p = pipeline();
      const started = Date.now();
      const error = await failure(
        p.fetch(twin.downloadUrl('voice'), { convert: 'wav', timeoutMs: 4_000, noCache: true }),
      );
      expect(error).toMatchObject({ failureClass: 'timeout', code: 'DETOUR_DEADLINE' });
      expect(error.message).toMatch(/while converting/);
      expect(Date.now() - started).toBeLessThan(8_000);
    } finally {
      busy.abort(new Error('done'));
      await Promise.all(blockers);
    }
  }, 60_000);

  it('an abort mid-decode settles at once and ends the worker', async () => {
    const long = await makeSilkClip(20_000);
    const pool = new DecoderPool({ size: 1 });
    const controller = new AbortController();
    const started = Date.now();
    const pending = pool.decode(
      { silk: long, sampleRate: 8_000, header: Buffer.alloc(44) },
      controller.signal,
    );
    setTimeout(() => controller.abort(new Error('stop')), 20);
    await expect(pending).rejects.toThrow('stop');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(pool.workers).toBe(0);
    await pool.close();
  }, 60_000);
});
