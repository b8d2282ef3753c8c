/**
 * Voice in a real Koishi `App`: a consumer plugin (`inject: ['detour']`) downloads each `<audio>`
 * through `ctx.detour` with `convert: 'wav'` or `'mp3'` (its frames walked); the clip is a real SILK clip (a tone of known length,
 * encoded in the test) that the lab's Tencent twin serves as `audio/amr`.
 */
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import type * as Mock from '@koishijs/plugin-mock';
import type * as Koishi from 'koishi';
import type { Context } from 'koishi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FetchResult } from '../src/index.js';
import * as detour from '../src/index.js';

const require = createRequire(import.meta.url);
const { App, h } = require('koishi') as typeof Koishi;
const mock = (require('@koishijs/plugin-mock') as typeof Mock).default;

const TONE_MS = 2_000;
let twin: TencentTwin;
let restore: () => void;

beforeAll(async () => {
  restore = interceptLookup(Object.fromEntries(TENCENT_TWIN_NAMES.map((n) => [n, '127.0.0.1'])));
  twin = await startTencentTwin({
    files: { voice: { bytes: await makeSilkClip(TONE_MS), appid: 1402, contentType: 'audio/amr' } },
  });
}, 60_000);
afterAll(async () => {
  await twin?.close();
  restore?.();
});

describe('koishi-plugin-detour: voice as WAV or MP3', () => {
  it.each([
    ['wav', 16_000],
    ['mp3', 24_000],
  ] as const)(
    "an <audio> SILK clip fetched with convert: '%s' comes back of the tone's length (%i Hz)",
    async (to, rate) => {
      const seen: FetchResult[] = [];
      const app = new App();
      // Koishi's baseDir is the working directory otherwise (the repo): the plugin keeps its state there.
      app.baseDir = mkdtempSync(join(tmpdir(), 'detour-koishi-convert-'));
      const mockFork = app.plugin(mock);
      app.plugin(detour, { noProxy: true, allowPrivateNetwork: true, caFile: labCerts().ca.certPath });
      app.plugin({
        name: 'voice-transcriber',
        inject: ['detour'],
        apply(ctx: Context) {
          ctx.middleware(async (session, next) => {
            const [audio] = h.select(session.elements ?? [], 'audio');
            if (!audio) return next();
            const result = await ctx.detour.fetch(String(audio.attrs.src), {
              convert: to,
              sampleRate: rate,
            });
            seen.push(result);
            return `${result.format} ${result.converted?.durationMs} ms`;
          });
        },
      });
      const client = app.mock.client('10001', '20002');
      await app.start();
      try {
        const replies = await client.receive(`<audio src="${h.escape(twin.downloadUrl('voice'), true)}"/>`);
        const result = seen[0]!;
        const info =
          to === 'wav'
            ? wavInfo(result.body)
            : { ...readMp3Frames(result.body), channels: readMp3Frames(result.body).mono ? 1 : 2 };
        expect(info).toMatchObject({ sampleRate: rate, channels: 1 });
        expect(Math.abs(info!.durationMs - TONE_MS) / TONE_MS).toBeLessThan(0.05);
        expect(result.converted).toMatchObject({ from: 'silk', to, sampleRate: rate });
        expect(result.contentType).toBe(to === 'wav' ? 'audio/wav' : 'audio/mpeg');
        expect(replies).toEqual([`${to} ${info!.durationMs} ms`]);
      } finally {
        mockFork.dispose();
        await app.stop();
      }
    },
  );
});
