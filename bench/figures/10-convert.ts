/**
 * Figure 10: SILK → WAV and MP3 conversion (`convert: 'wav'`, `'mp3'`). First the decoder's cost: a
 * real SILK clip (a tone encoded with the SILK encoder) decoded by core's worker pool (warm), as ms
 * of wall time per second of audio, and the same decode run on the main thread (silk-wasm called
 * directly): how long one clip would hold the event loop without the workers; then the same clip
 * converted to MP3 (decoded, then encoded by Mediabunny's LAME in WASM) by the worker pool. Then `detour serve` (in this
 * process, so its event loop is the one measured) answering `convert=wav` for several clips at
 * once, with the event-loop delay (perf_hooks.monitorEventLoopDelay) over the load, beside the same
 * load without `convert` (the SILK bytes passed through). The origin is a plain HTTP server on
 * 127.0.0.1 in this process; each request has its own URL (the cache cannot answer).
 */
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { convertBody, DecoderPool } from '@detour/core/internal';
import { Pool } from 'undici';
import { collectGarbage } from '../lib/proc.js';
import type { Cell, Figure, FigureContext, Target } from '../lib/types.js';
import { summarize } from '../stats.js';

type Silk = { decode(input: Uint8Array, rate: number): Promise<{ data: Uint8Array }> };

async function loadSilk(): Promise<Silk> {
  const core = fileURLToPath(new URL('../../packages/core/package.json', import.meta.url));
  return (await import(pathToFileURL(createRequire(core).resolve('silk-wasm')).href)) as Silk;
}

async function origin(ctx: FigureContext, clip: Buffer): Promise<string> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'audio/amr', 'content-length': clip.length });
    res.end(clip);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  ctx.defer(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * ms of wall time per second of audio over `runs` decodes of a `seconds`-long clip, and the main
 * thread's busy time (event-loop utilisation) per decode.
 */
async function perSecond(
  decode: () => Promise<unknown>,
  seconds: number,
  runs: number,
): Promise<{ msPerSecond: number[]; busyMs: number[] }> {
  await decode(); // warm: the worker (or the WASM instance) exists and is compiled
  const msPerSecond: number[] = [];
  const busyMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    collectGarbage();
    const elu = performance.eventLoopUtilization();
    const started = performance.now();
    await decode();
    msPerSecond.push((performance.now() - started) / seconds);
    busyMs.push(performance.eventLoopUtilization(elu).active);
  }
  return { msPerSecond, busyMs };
}

interface LoopFigures {
  p50: number;
  p99: number;
  max: number;
  wallMs: number;
  /** Time the main thread's event loop was busy (not waiting for I/O), per request. */
  busyMsPerRequest: number;
}

/** `rounds` × `inFlight` calls of `one` (0 in flight: 2 s of nothing); the event-loop delay over them. */
async function loopDelay(one: () => Promise<void>, inFlight: number, rounds: number): Promise<LoopFigures> {
  if (inFlight > 0) await one(); // warm
  collectGarbage();
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  const elu = performance.eventLoopUtilization();
  const started = performance.now();
  if (inFlight === 0) await new Promise((resolve) => setTimeout(resolve, 2_000));
  for (let r = 0; r < rounds && inFlight > 0; r++) await Promise.all(Array.from({ length: inFlight }, one));
  const wallMs = performance.now() - started;
  const busy = performance.eventLoopUtilization(elu).active;
  histogram.disable();
  const ms = (ns: number) => ns / 1e6;
  return {
    p50: ms(histogram.percentile(50)),
    p99: ms(histogram.percentile(99)),
    max: ms(histogram.max),
    wallMs,
    busyMsPerRequest: inFlight ? busy / (rounds * inFlight) : 0,
  };
}

export const figure: Figure = {
  id: 10,
  key: 'convert',
  title: 'SILK → WAV and MP3: conversion cost and the event loop of detour serve while converting',
  async run(ctx) {
    const quick = ctx.config.quick;
    const runs = quick ? 2 : ctx.config.runs;
    const seconds = quick ? 10 : 60;
    const { makeSilkClip } = await import('../../packages/lab/src/index.js');
    const clip = await makeSilkClip(seconds * 1000);
    const silk = await loadSilk();
    const workers = new DecoderPool({ size: 1 });
    ctx.defer(() => workers.close());
    const never = new AbortController().signal;

    const rows: Cell[][] = [];
    const data: Record<string, unknown> = { seconds, runs };
    for (const rate of [16_000, 24_000, 48_000]) {
      ctx.signal.throwIfAborted();
      const pooled = await perSecond(
        () =>
          convertBody(
            clip,
            'silk',
            { to: 'wav', sampleRate: rate, maxDurationMs: 3_600_000 },
            never,
            workers,
          ),
        seconds,
        runs,
      );
      const inline = await perSecond(() => silk.decode(clip, rate), seconds, runs);
      const p = summarize(pooled.msPerSecond).median;
      const i = summarize(inline.msPerSecond).median;
      rows.push([`wav, ${rate} Hz`, p, summarize(pooled.busyMs).median, i, i * seconds]);
      data[`rate${rate}`] = { pooled, inline };
    }
    for (const rate of [16_000, 24_000]) {
      ctx.signal.throwIfAborted();
      const settings = { to: 'mp3', sampleRate: rate, maxDurationMs: 3_600_000 } as const;
      const pooled = await perSecond(
        () => convertBody(clip, 'silk', settings, never, workers),
        seconds,
        runs,
      );
      const p = summarize(pooled.msPerSecond).median;
      rows.push([`mp3 (64 kbit/s), ${rate} Hz`, p, summarize(pooled.busyMs).median, null, null]);
      data[`mp3rate${rate}`] = { pooled };
    }

    ctx.log('detour serve in this process, converting');
    const base = await origin(ctx, clip);
    const { startServer } = await import('@detour/serve');
    const server = await startServer({
      port: 0,
      redetectMs: 0,
      detour: {
        allowPrivateNetwork: true,
        proxy: false,
        env: {},
        logLevel: 'silent',
        strategies: ['direct'],
        cache: false,
      },
    });
    ctx.defer(() => server.close(1000));
    const pool = new Pool(server.url, { connections: 8 });
    ctx.defer(() => pool.close());
    const inFlight = 2;
    const rounds = quick ? 1 : 4;
    const q = (extra: string) => (n: number) =>
      `/v1/fetch?url=${encodeURIComponent(`${base}/voice?n=${n}`)}${extra}`;
    let n = 0;
    const request = (path: (n: number) => string) => async () => {
      const { statusCode, body } = await pool.request({ method: 'GET', path: path(n++) });
      await body.arrayBuffer();
      if (statusCode !== 200) throw new Error(`detour serve answered ${statusCode}`);
    };
    const converting = await loopDelay(request(q('&convert=wav')), inFlight, rounds);
    const passing = await loopDelay(request(q('')), inFlight, rounds);
    const idle = await loopDelay(async () => {}, 0, 0);
    // What serve would see if it decoded on its own thread: the same clips decoded inline.
    const inline = await loopDelay(
      async () => {
        await silk.decode(clip, 24_000);
      },
      inFlight,
      rounds,
    );
    const inlineHold =
      summarize(
        data.rate24000 ? (data.rate24000 as { inline: { msPerSecond: number[] } }).inline.msPerSecond : [],
      ).median * seconds;
    data.serve = { inFlight, rounds, converting, passing, idle, inline, loadavg: loadavg() };

    const row = (label: string, f: LoopFigures, busy: boolean): Cell[] => [
      label,
      f.p50,
      f.p99,
      f.max,
      busy ? f.busyMsPerRequest : null,
      f.wallMs,
    ];
    const loopRows: Cell[][] = [
      row(`convert=wav (${inFlight} × ${seconds} s clips at once, ${rounds} rounds)`, converting, true),
      row('no convert (the SILK bytes passed through)', passing, true),
      row('idle (no request, 2 s)', idle, false),
      row('for comparison: the same clips decoded on the main thread (no worker)', inline, true),
    ];
    const busy24 = summarize((data.rate24000 as { pooled: { busyMs: number[] } }).pooled.busyMs).median;
    const targets: Target[] = [
      {
        name: `main thread busy while one ${seconds} s clip converts (worker pool, 24 kHz)`,
        target: '≤ 50 ms',
        value: busy24,
        met: busy24 <= 50,
      },
    ];
    return {
      tables: [
        {
          caption: `Converting a ${seconds} s SILK clip (median of ${runs} runs after one warm-up)`,
          columns: [
            'output',
            'worker pool: ms per s of audio',
            'worker pool: main thread busy per clip (ms)',
            'main thread: ms per s of audio',
            'main thread: one clip holds the loop (ms)',
          ],
          rows,
        },
        {
          caption: 'detour serve (in this process): event-loop delay over the load, ms',
          columns: ['load', 'delay p50', 'delay p99', 'delay max', 'loop busy ms per request', 'wall ms'],
          rows: loopRows,
        },
      ],
      targets,
      notes: [
        `Without the worker threads, one ${seconds} s clip decoded at 24 kHz would hold the event loop for ~${Math.round(inlineHold)} ms.`,
        `Load average during the run: ${loadavg()
          .map((v) => v.toFixed(1))
          .join(
            ', ',
          )} on ${availableParallelism()} cores: the delays include waiting for a core (compare with the idle row); "loop busy" (event-loop utilisation) is the main thread's own work per request, which contention does not inflate as much.`,
        `The serve rows' "loop busy" grows with the bytes moved: a converted ${seconds} s clip is ${((seconds * 48_000) / 1e6).toFixed(2)} MB of WAV at 24 kHz against ${(clip.length / 1e6).toFixed(2)} MB of SILK, served (and hashed by serve) and read by the client, all in this process; the conversion's own share is the first table's "main thread busy per clip" (not separated further).`,
        'The worker pool rows include the copy to the worker and back, building the WAV or MP3 and its SHA-256 (in the worker).',
        "The MP3 rows: the SILK decode, then Mediabunny's LAME encoder (WASM), which starts a thread of its own for each clip (a fixed cost of a few hundred ms spread over the clip's length); the main-thread columns are empty (no inline MP3 path).",
      ],
      data,
    };
  },
};
