/**
 * Rescue time, shared by figures 2 and 3: time to first byte (`pipeline.stream` resolving, i.e.
 * status, length and magic bytes checked) of the first request to a hostile origin on a fresh
 * pipeline (every failed strategy paid), then of the next ones (route memory should start at the
 * winner), each divided by the same request to a good origin measured in the same run.
 */
import { finished } from 'node:stream/promises';
import type { AttemptRecord, Pipeline } from '@detour/core';
import { num, ratio, summarize } from '../stats.js';
import type { FigureContext, FigureOutput, Target } from './types.js';

export interface RescueCase {
  label: string;
  /** A fresh pipeline for the hostile origin, and the URL (without query) to fetch. */
  hostile: () => Promise<Pipeline>;
  hostileUrl: string;
  /**
   * Judge the first request by its own time (≤ this many ms) instead of ÷ the good origin: for
   * failures that cost a fixed wait (a stuck proxy's deadline), where a ratio says nothing.
   */
  firstMaxMs?: number;
  /** Fewer runs than the figure's (each first request of a slow case costs seconds). */
  maxRuns?: number;
}

export interface RescueSetup {
  cases: RescueCase[];
  /** A fresh pipeline for the good origin and its URL: the baseline. */
  good: () => Promise<Pipeline>;
  goodUrl: string;
  baselineLabel: string;
  /** How the pipelines trust the lab CA (see labTrust). */
  trustLabel: string;
}

interface Sample {
  ms: number;
  strategy: string;
  failed: number;
  attempts: string;
}

let serial = 0;

async function timeToFirstByte(pipeline: Pipeline, url: string): Promise<Sample> {
  const started = performance.now();
  const result = await pipeline.stream(`${url}?n=${serial++}`, { noCache: true });
  const ms = performance.now() - started;
  result.body.resume();
  await finished(result.body);
  return {
    ms,
    strategy: result.strategy,
    failed: result.attempts.filter((a: AttemptRecord) => a.outcome === 'failed').length,
    attempts: result.attempts
      .map((a: AttemptRecord) => `${a.strategy}:${a.outcome}${a.failureClass ? `(${a.failureClass})` : ''}`)
      .join(' → '),
  };
}

export async function measureRescue(ctx: FigureContext, setup: RescueSetup): Promise<FigureOutput> {
  const { runs, next } = ctx.config.rescue;
  const rows: Array<Array<string | number | null>> = [];
  const targets: Target[] = [];
  const notes: string[] = [];
  const data: Record<string, unknown> = {};

  // One untimed round so that the JIT, the lab's certificates and the child's handlers are warm.
  for (const c of setup.cases) {
    const p = await c.hostile();
    await timeToFirstByte(p, c.hostileUrl).catch(() => undefined);
    await p.close();
  }

  for (const c of setup.cases) {
    const caseRuns = Math.min(runs, c.maxRuns ?? runs);
    const firstRatios: number[] = [];
    const nextRatios: number[] = [];
    const firstMs: number[] = [];
    const goodFirstMs: number[] = [];
    const nextMs: number[] = [];
    const goodNextMs: number[] = [];
    let nextFailed = 0;
    let firstStory = '';
    let nextStory = '';
    const winners = new Set<string>();
    for (let run = 0; run < caseRuns; run++) {
      ctx.signal.throwIfAborted();
      const hostile = await c.hostile();
      const good = await setup.good();
      try {
        // Alternate which goes first so neither always meets a cold CPU cache.
        const pair = async (): Promise<[Sample, Sample]> => {
          if (run % 2 === 0) {
            const h = await timeToFirstByte(hostile, c.hostileUrl);
            return [h, await timeToFirstByte(good, setup.goodUrl)];
          }
          const g = await timeToFirstByte(good, setup.goodUrl);
          return [await timeToFirstByte(hostile, c.hostileUrl), g];
        };
        const [h1, g1] = await pair();
        firstMs.push(h1.ms);
        goodFirstMs.push(g1.ms);
        firstRatios.push(ratio(h1.ms, g1.ms));
        firstStory ||= h1.attempts;
        winners.add(h1.strategy);
        const hn: number[] = [];
        const gn: number[] = [];
        for (let i = 0; i < next; i++) {
          const [h, g] = await pair();
          hn.push(h.ms);
          gn.push(g.ms);
          nextFailed += h.failed;
          nextStory ||= h.attempts;
          winners.add(h.strategy);
        }
        nextMs.push(...hn);
        goodNextMs.push(...gn);
        nextRatios.push(ratio(summarize(hn).median, summarize(gn).median));
      } finally {
        await hostile.close();
        await good.close();
      }
    }
    const fr = summarize(firstRatios);
    const nr = summarize(nextRatios);
    const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '–');
    rows.push(
      [
        c.label,
        'first request',
        summarize(firstMs).median,
        summarize(goodFirstMs).median,
        `${fmt(fr.median)} / ${fmt(fr.p95)}`,
        firstStory,
      ],
      [
        c.label,
        `next ${next} (each run)`,
        summarize(nextMs).median,
        summarize(goodNextMs).median,
        `${fmt(nr.median)} / ${fmt(nr.p95)}`,
        `${nextStory}; ${nextFailed} failed attempts in ${caseRuns * next} requests`,
      ],
    );
    const firstMedianMs = summarize(firstMs).median;
    targets.push(
      c.firstMaxMs === undefined
        ? {
            name: `${c.label}: first request ÷ good first request`,
            target: '≤ 2.0',
            value: num(fr.median),
            met: Number.isFinite(fr.median) ? fr.median <= 2 : null,
          }
        : {
            name: `${c.label}: first request (ms)`,
            target: `≤ ${c.firstMaxMs}`,
            value: num(firstMedianMs),
            met: Number.isFinite(firstMedianMs) ? firstMedianMs <= c.firstMaxMs : null,
          },
      {
        name: `${c.label}: next requests ÷ good next requests`,
        target: '≤ 1.10',
        value: num(nr.median),
        met: Number.isFinite(nr.median) ? nr.median <= 1.1 : null,
      },
      {
        name: `${c.label}: failed attempts on the next requests`,
        target: '= 0',
        value: nextFailed,
        met: nextFailed === 0,
      },
    );
    data[c.label] = {
      firstRatios,
      nextRatios,
      firstMs,
      goodFirstMs,
      nextMs,
      goodNextMs,
      nextFailed,
      winners: [...winners],
      firstStory,
      nextStory,
    };
  }
  notes.push(
    `Time to first byte = until \`pipeline.stream()\` resolves (status, length and magic bytes checked). Baseline: ${setup.baselineLabel}, on a fresh pipeline too, in the same run. ${runs} runs${
      setup.cases.some((c) => c.maxRuns !== undefined && c.maxRuns < runs)
        ? ` (${setup.cases
            .filter((c) => c.maxRuns !== undefined && c.maxRuns < runs)
            .map((c) => `${c.label}: ${Math.min(runs, c.maxRuns!)}`)
            .join('; ')})`
        : ''
    }; ratio column: median / p95 over runs. Trust: ${setup.trustLabel}.`,
  );
  return {
    tables: [
      {
        columns: ['origin', 'request', 'median ms', 'good origin ms', 'ratio (med / p95)', 'attempts'],
        rows,
      },
    ],
    targets,
    notes,
    data,
  };
}
