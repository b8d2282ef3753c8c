/**
 * The curl child runs in its own process group: a `--curl` wrapper script whose grandchild holds
 * stdout (and the header FIFO) open must neither stretch the deadline nor outlive the attempt.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPipeline, type DetourError, type Pipeline } from '@detour/core';
import { type BrokenTlsServer, LAB_PNG, type Lab, startBrokenTlsServer, startLab } from '@detour/lab';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CurlStrategy } from '../src/index.js';

let lab: Lab;
let silent: BrokenTlsServer;
const dir = mkdtempSync(join(tmpdir(), 'detour-curl-group-'));
const opened: Pipeline[] = [];
let wrapperRuns = 0;

beforeAll(async () => {
  [lab, silent] = await Promise.all([startLab(), startBrokenTlsServer('silent')]);
});
afterEach(async () => {
  for (const pipeline of opened.splice(0)) await pipeline.close();
});
afterAll(async () => {
  await Promise.all([lab?.close(), silent?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A wrapper that records its process group, leaves a `sleep 30` holding stdout, stderr and the
 * header FIFO (fd 3), then becomes curl.
 */
function wrapper(): { path: string; pgid: () => number } {
  const n = wrapperRuns++;
  const path = join(dir, `curl-wrapper-${n}.sh`);
  const pidFile = join(dir, `pgid-${n}`);
  writeFileSync(
    path,
    `#!/bin/sh\nps -o pgid= -p $$ | tr -d ' ' > '${pidFile}'\nsleep 30 &\nexec curl "$@"\n`,
  );
  chmodSync(path, 0o755);
  return { path, pgid: () => Number(readFileSync(pidFile, 'utf8').trim()) };
}

/** Live (not zombie) processes of group `pgid`, read from /proc. */
function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(group) === pgid && state !== 'Z') members.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return members;
}

/** Whether any process of group `pgid` still runs (a SIGKILLed one may take a moment to be reaped). */
async function groupAlive(pgid: number): Promise<boolean> {
  for (let i = 0; i < 25 && groupMembers(pgid).length > 0; i++) await sleep(20);
  return groupMembers(pgid).length > 0;
}

function make(curlPath: string, timeoutMs: number) {
  const strategy = new CurlStrategy({ curlPath, tmpDir: dir });
  const pipeline = createPipeline({
    allowPrivateNetwork: true,
    ca: lab.ca,
    use: [strategy],
    strategies: ['curl'],
    timeoutMs,
  });
  opened.push(pipeline);
  return { strategy, pipeline };
}

describe('the curl child’s process group', () => {
  it('the deadline kills the whole group: a grandchild holding stdout does not stretch it', async () => {
    const { path, pgid } = wrapper();
    const { strategy, pipeline } = make(path, 3000);
    const started = performance.now();
    const pending = pipeline.fetch(`${silent.url}/x`).catch((e: DetourError) => e);
    for (let i = 0; i < 200 && strategy.pids.length === 0; i++) await sleep(10);
    const [pid] = strategy.pids;
    expect(pid).toBeDefined();
    await sleep(200);
    expect(pgid()).toBe(pid); // the child leads its own group
    const error = (await pending) as DetourError;
    const ms = performance.now() - started;
    expect(error.failureClass).toBe('timeout');
    expect(ms).toBeGreaterThan(2900);
    expect(ms).toBeLessThan(3800); // was ~30 s: the wait for the grandchild's pipes
    expect(await groupAlive(pgid())).toBe(false);
    expect(strategy.pids).toEqual([]);
  });

  it('an abort kills the whole group at once', async () => {
    const { path, pgid } = wrapper();
    const { strategy, pipeline } = make(path, 20_000);
    const controller = new AbortController();
    const pending = pipeline.fetch(`${silent.url}/x`, { signal: controller.signal }).catch((e) => e);
    for (let i = 0; i < 200 && strategy.pids.length === 0; i++) await sleep(10);
    await sleep(200);
    expect(await groupAlive(pgid())).toBe(true);
    const started = performance.now();
    controller.abort();
    const error = (await pending) as DetourError;
    expect(error.failureClass).toBe('aborted');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await groupAlive(pgid())).toBe(false);
  });

  it('a successful run does not wait for what the wrapper left behind, and leaves nothing', async () => {
    const { path, pgid } = wrapper();
    const { pipeline } = make(path, 20_000);
    const started = performance.now();
    const result = await pipeline.fetch(`${lab.https.url}/image.png`);
    expect(result.body.equals(LAB_PNG)).toBe(true);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(await groupAlive(pgid())).toBe(false);
  });

  it('pipeline.close() kills the group of a run whose body is streaming', async () => {
    const { path, pgid } = wrapper();
    const { pipeline } = make(path, 20_000);
    const streamed = await pipeline.stream(`${lab.https.url}/slow-drip?ms=100&bytes=1000`);
    streamed.body.on('error', () => {});
    expect(await groupAlive(pgid())).toBe(true);
    const started = performance.now();
    await pipeline.close();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await groupAlive(pgid())).toBe(false);
  });

  it('close() settles a fetch reading a dripping curl at once (aborted / DETOUR_CLOSED), and a fetch waiting for its head', async () => {
    const strategy = new CurlStrategy({ tmpDir: dir });
    const pipeline = createPipeline({
      allowPrivateNetwork: true,
      ca: lab.ca,
      use: [strategy],
      strategies: ['curl'],
      timeoutMs: 30_000,
    });
    opened.push(pipeline);
    const dripping = pipeline.fetch(`${lab.https.url}/slow-drip?ms=100&bytes=1000`).catch((e: unknown) => e);
    const stalled = pipeline.fetch(`${silent.url}/x`).catch((e: unknown) => e);
    for (let i = 0; i < 200 && strategy.pids.length < 2; i++) await sleep(10);
    await sleep(300); // the drip has started
    const pids = strategy.pids;
    expect(pids).toHaveLength(2);
    const started = performance.now();
    const settled = Promise.all([dripping, stalled]).then((errors) => ({
      errors,
      ms: performance.now() - started,
    }));
    await pipeline.close();
    const { errors, ms } = await settled;
    for (const error of errors)
      expect(error).toMatchObject({ failureClass: 'aborted', code: 'DETOUR_CLOSED' });
    expect(ms).toBeLessThan(250); // contract: 100 ms; room for a loaded CI machine (was: the 30 s deadline)
    for (const pid of pids) expect(await groupAlive(pid)).toBe(false);
  });
});
