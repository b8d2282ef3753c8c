/**
 * `detour fetch --convert wav` and `--convert mp3` end to end: the real CLI binary, in a private
 * mount namespace whose /etc/hosts maps Tencent's names to 127.0.0.1 (as cli-qq.test.ts), downloads a real SILK clip (a
 * tone of known length, encoded in the test) that the Tencent twin serves as `audio/amr`, and
 * writes a WAV (or an MP3, checked frame by frame) of the right length and rate; a corrupt clip
 * leaves no file.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wavInfo } from '@detour/core/internal';
import {
  type HostsNamespace,
  hostsNamespace,
  hostsNamespaceSupport,
  makeSilkClip,
  readMp3Frames,
  startTencentTwin,
  TENCENT_TWIN_NAMES,
  type TencentTwin,
} from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, detourIn } from './cli-run.js';

const support = hostsNamespaceSupport();
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const TONE_MS = 2_000;
const LONG_TONE_MS = 5_000; // for MP3: its frames also hold LAME's delay and padding

let twin: TencentTwin;
let ns: HostsNamespace;
let dir: string;

// biome-ignore lint/suspicious/noExplicitAny: JSON read back from the CLI, checked with toMatchObject
const json = (run: CliRun) => JSON.parse(run.stdout.toString()) as Record<string, any>;

describe.skipIf(support !== true)(
  `detour fetch --convert wav|mp3 against the Tencent twin${support === true ? '' : ` — skipped: ${support}`}`,
  () => {
    beforeAll(async () => {
      const clip = await makeSilkClip(TONE_MS);
      const corrupt = Buffer.from(clip);
      corrupt.writeUInt16LE(0x7000, 10); // the first packet claims more than a SILK packet may hold
      twin = await startTencentTwin({
        files: {
          voice: { bytes: clip, appid: 1402, contentType: 'audio/amr' },
          long: { bytes: await makeSilkClip(LONG_TONE_MS), appid: 1402, contentType: 'audio/amr' },
          corrupt: { bytes: corrupt, appid: 1402, contentType: 'audio/amr' },
        },
      });
      ns = hostsNamespace(Object.fromEntries(TENCENT_TWIN_NAMES.map((n) => [n, '127.0.0.1'])));
      dir = mkdtempSync(join(tmpdir(), 'detour-cli-convert-'));
    }, 60_000);
    afterAll(async () => {
      await twin?.close();
      ns?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('-o voice.wav --convert wav --sample-rate 16000: a WAV of the tone length, the JSON says converted', async () => {
      const out = join(dir, 'voice.wav');
      const run = await detourIn(ns, [
        'fetch',
        twin.downloadUrl('voice'),
        '--json',
        '--allow-private',
        '--expect',
        'audio',
        '--convert',
        'wav',
        '--sample-rate',
        '16000',
        '-o',
        out,
      ]);
      expect(run.code, run.stderr).toBe(0);
      const wav = readFileSync(out);
      const info = wavInfo(wav);
      expect(info).toMatchObject({ sampleRate: 16_000, channels: 1, bitsPerSample: 16 });
      expect(Math.abs(info!.durationMs - TONE_MS) / TONE_MS).toBeLessThan(0.05);
      expect(json(run)).toMatchObject({
        ok: true,
        format: 'wav',
        contentType: 'audio/wav',
        bytes: wav.length,
        sha256: sha256(wav),
        converted: { from: 'silk', to: 'wav', sampleRate: 16_000, durationMs: info!.durationMs },
      });
    });

    it('the human report names the conversion; the default rate is 24000', async () => {
      const out = join(dir, 'default.wav');
      const run = await detourIn(ns, [
        'fetch',
        twin.downloadUrl('voice'),
        '--allow-private',
        '--convert',
        'wav',
        '-o',
        out,
      ]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout.toString()).toMatch(/wav \(audio\/wav\).*converted from silk: 2\.0 s at 24000 Hz/);
      expect(wavInfo(readFileSync(out))?.sampleRate).toBe(24_000);
    });

    it('-o voice.mp3 --convert mp3 --sample-rate 16000: MPEG-2 Layer III frames of the tone length, audio/mpeg', async () => {
      const out = join(dir, 'voice.mp3');
      const run = await detourIn(ns, [
        'fetch',
        twin.downloadUrl('long'),
        '--json',
        '--allow-private',
        '--convert',
        'mp3',
        '--sample-rate',
        '16000',
        '-o',
        out,
      ]);
      expect(run.code, run.stderr).toBe(0);
      const mp3 = readFileSync(out);
      const frames = readMp3Frames(mp3);
      expect(frames).toMatchObject({ version: 'MPEG-2', layer: 3, sampleRate: 16_000, mono: true });
      expect(Math.abs(frames.durationMs - LONG_TONE_MS) / LONG_TONE_MS).toBeLessThan(0.05);
      expect(json(run)).toMatchObject({
        ok: true,
        format: 'mp3',
        contentType: 'audio/mpeg',
        bytes: mp3.length,
        sha256: sha256(mp3),
        converted: { from: 'silk', to: 'mp3', sampleRate: 16_000, durationMs: frames.durationMs },
      });
    });

    it('a corrupt clip: exit 1, content-invalid / DETOUR_DECODE_FAILED, no file left (wav and mp3)', async () => {
      for (const target of ['wav', 'mp3']) {
        const out = join(dir, `corrupt.${target}`);
        const run = await detourIn(ns, [
          'fetch',
          twin.downloadUrl('corrupt'),
          '--json',
          '--allow-private',
          '--convert',
          target,
          '-o',
          out,
        ]);
        expect(run.code).toBe(1);
        expect(json(run).error).toMatchObject({
          failureClass: 'content-invalid',
          code: 'DETOUR_DECODE_FAILED',
        });
        expect(existsSync(out)).toBe(false);
      }
      expect(readdirSync(dir).filter((f) => f.includes('corrupt'))).toEqual([]);
    });

    it('bad usage: --convert ogg, --sample-rate 22050, --sample-rate alone (exit 2, no request)', async () => {
      twin.hits.length = 0;
      const url = twin.downloadUrl('voice');
      for (const extra of [
        ['--convert', 'ogg'],
        ['--convert', 'wav', '--sample-rate', '22050'],
        ['--sample-rate', '16000'],
      ]) {
        const run = await detourIn(ns, ['fetch', url, '--allow-private', ...extra]);
        expect(run.code, extra.join(' ')).toBe(2);
        expect(run.stderr).toMatch(/--convert|--sample-rate/);
      }
      expect(twin.hits).toHaveLength(0);
    });
  },
);
