/**
 * `convert: 'mp3'` end to end in the library: a real SILK clip (a sine tone of known length,
 * encoded with the SILK encoder in the test) served by the Tencent twin as `audio/amr` over real
 * TLS, decoded and encoded to MP3 (Mediabunny's LAME, WASM) in the worker threads, delivered
 * through fetch, toFile and stream, cached as a derived entry of its own (apart from the WAV).
 * The MP3 is checked by walking its frame headers with the lab's reader (written apart from core's).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buffer as drain } from 'node:stream/consumers';
import {
  DecoderPool,
  DetourError,
  mp3Info,
  type Pipeline,
  type PipelineOptions,
} from '@detour/core/internal';
import { makeSilkClip, readMp3Frames, startTencentTwin, type TencentTwin } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVoiceTwin, type VoiceTwin } from './voice-twin.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
// Long enough for 5 %: the MP3's frames also hold LAME's delay and padding (up to ~1700 samples,
// ~210 ms at 8000 Hz).
const TONE_MS = 5_000;

let twin: TencentTwin;
let dir: string;
let clip: Buffer;
let voice: VoiceTwin;
const pipeline = (options?: PipelineOptions): Pipeline => voice.pipeline(options);

/** Every frame of the MP3 walked: Layer III, mono, the rate asked, the tone's length within 5 %. */
function expectMp3(body: Buffer, sampleRate: number, ms: number): void {
  const frames = readMp3Frames(body);
  expect(frames).toMatchObject({ layer: 3, sampleRate, mono: true });
  expect(frames.version).toBe(sampleRate >= 32_000 ? 'MPEG-1' : sampleRate >= 16_000 ? 'MPEG-2' : 'MPEG-2.5');
  expect(frames.samplesPerFrame).toBe(sampleRate >= 32_000 ? 1152 : 576);
  expect(Math.abs(frames.durationMs - ms) / ms).toBeLessThan(0.05);
  // Core's own reading agrees with the lab's.
  expect(mp3Info(body)).toMatchObject({
    sampleRate,
    frames: frames.audioFrames,
    durationMs: frames.durationMs,
  });
}

beforeAll(async () => {
  clip = await makeSilkClip(TONE_MS);
  const plain = await makeSilkClip(TONE_MS, { form: 'plain', sampleRate: 16_000 });
  const corrupt = Buffer.from(clip);
  corrupt.writeUInt16LE(2000, 10); // the first packet claims more than a packet may hold
  voice = await startVoiceTwin('detour-convert-mp3-', {
    voice: clip,
    plain,
    corrupt,
  });
  twin = voice.twin;
  dir = voice.dir;
}, 60_000);
afterAll(() => voice?.close());

describe("convert: 'mp3'", () => {
  it('fetch: SILK served as audio/amr comes back as MP3 (audio/mpeg), sha256 of the MP3, length from its frames', async () => {
    const p = pipeline();
    const r = await p.fetch(twin.downloadUrl('voice'), { expect: 'audio', convert: 'mp3' });
    expect(r).toMatchObject({
      format: 'mp3',
      contentType: 'audio/mpeg',
      fromCache: false,
      converted: { from: 'silk', to: 'mp3', sampleRate: 24_000 },
    });
    expectMp3(r.body, 24_000, TONE_MS);
    expect(r.converted!.durationMs).toBe(readMp3Frames(r.body).durationMs);
    expect(r.bytes).toBe(r.body.length);
    expect(r.sha256).toBe(sha256(r.body));
    // 64 kbit/s: 5 s are ~40 kB (a WAV at this rate would be 240 kB).
    expect(r.body.length).toBeGreaterThan(36_000);
    expect(r.body.length).toBeLessThan(46_000);
  });

  it('sampleRate (MPEG-1, -2 and -2.5 rates), the plain #!SILK_V3 form, toFile and stream', async () => {
    const p = pipeline();
    const target = join(dir, 'plain.mp3');
    const file = await p.toFile(twin.downloadUrl('plain'), target, { convert: 'mp3', sampleRate: 16_000 });
    const written = readFileSync(target);
    expectMp3(written, 16_000, TONE_MS);
    expect(file).toMatchObject({ format: 'mp3', bytes: written.length, sha256: sha256(written) });
    expect(file.converted).toMatchObject({ from: 'silk', to: 'mp3', sampleRate: 16_000 });
    for (const sampleRate of [8_000, 48_000]) {
      const streamed = await p.stream(twin.downloadUrl('voice'), { convert: 'mp3', sampleRate });
      expect(streamed).toMatchObject({ format: 'mp3', contentType: 'audio/mpeg', converted: { sampleRate } });
      expectMp3(await drain(streamed.body), sampleRate, TONE_MS);
    }
  });

  it('the cache keeps the original; the MP3 is a derived entry of its own, apart from the WAV', async () => {
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
    const first = await p.fetch(url, { convert: 'mp3' });
    expect(log.filter((l) => l === 'set')).toHaveLength(2); // the original, then the MP3
    log.length = 0;
    const again = await p.fetch(url, { convert: 'mp3' });
    expect(again).toMatchObject({
      fromCache: true,
      format: 'mp3',
      contentType: 'audio/mpeg',
      sha256: first.sha256,
      converted: first.converted,
    });
    expect(log).toEqual(['get hit']); // the derived entry answered
    // The WAV of the same rate is another entry, converted from the cached original.
    log.length = 0;
    const wav = await p.fetch(url, { convert: 'wav' });
    expect(wav).toMatchObject({
      fromCache: true,
      format: 'wav',
      converted: { to: 'wav', sampleRate: 24_000 },
    });
    expect(log).toEqual(['get miss', 'get hit', 'set']);
    const mp3Again = await p.fetch(url, { convert: 'mp3' });
    expect(mp3Again.sha256).toBe(first.sha256);
    const original = await p.fetch(url);
    expect(original).toMatchObject({ fromCache: true, format: 'silk', sha256: sha256(clip) });
    expect(twin.hitsFor('voice')).toHaveLength(1);
    expect(entries.size).toBe(3);
  });

  it("core's mp3Info: an ID3v2 tag skipped, a cut last frame dropped, garbage is no MP3; an MP3 body is delivered as it is", async () => {
    const p = pipeline();
    const mp3 = (await p.fetch(twin.downloadUrl('voice'), { convert: 'mp3', noCache: true })).body;
    const info = mp3Info(mp3)!;
    // An ID3v2 tag of 20 bytes (its size is syncsafe: 7 bits a byte) before the frames.
    const id3 = Buffer.concat([Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x14', 'latin1'), Buffer.alloc(20)]);
    expect(mp3Info(Buffer.concat([id3, mp3]))).toEqual(info);
    expect(mp3Info(mp3.subarray(0, mp3.length - 10))?.frames).toBe(info.frames - 1);
    expect(mp3Info(Buffer.from('not an mp3 at all'))).toBeUndefined();
    expect(mp3Info(mp3.subarray(0, 3))).toBeUndefined();
    // A body already MP3 with convert: 'mp3' is delivered untouched (no converted field).
    const served = await startTencentTwin({
      files: { song: { bytes: mp3, appid: 1402, contentType: 'audio/mpeg' } },
    });
    try {
      const same = await p.fetch(served.downloadUrl('song'), { convert: 'mp3' });
      expect(same).toMatchObject({ format: 'mp3', sha256: sha256(mp3) });
      expect(same.converted).toBeUndefined();
    } finally {
      await served.close();
    }
  });

  it('a corrupt clip fails as DETOUR_DECODE_FAILED and leaves no file; too long is too-large', async () => {
    const p = pipeline();
    const target = join(dir, 'corrupt.mp3');
    const error = await p.toFile(twin.downloadUrl('corrupt'), target, { convert: 'mp3' }).catch((e) => e);
    expect(error).toBeInstanceOf(DetourError);
    expect(error).toMatchObject({ failureClass: 'content-invalid', code: 'DETOUR_DECODE_FAILED' });
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('corrupt'))).toEqual([]);
    const long = await p
      .fetch(twin.downloadUrl('voice'), { convert: 'mp3', maxDurationMs: 1_000, noCache: true })
      .catch((e) => e);
    expect(long).toMatchObject({ failureClass: 'too-large', code: 'DETOUR_AUDIO_TOO_LONG' });
  });

  it('an MP3 job aborted settles at once and ends its worker', async () => {
    const long = await makeSilkClip(60_000);
    const pool = new DecoderPool({ size: 1 });
    const { mp3Encoder } = await import('../src/convert/worker.js');
    const controller = new AbortController();
    const pending = pool.decode(
      { silk: long, sampleRate: 48_000, to: 'mp3', encoder: mp3Encoder(64_000) },
      controller.signal,
    );
    setTimeout(() => controller.abort(new Error('stop')), 300);
    const started = Date.now();
    await expect(pending).rejects.toThrow('stop');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(pool.workers).toBe(0);
    await pool.close();
  }, 60_000);
});
