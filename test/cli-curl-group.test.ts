/** `detour fetch --curl WRAPPER`: a wrapper whose grandchild holds curl's stdout does not stretch --timeout. */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BrokenTlsServer, startBrokenTlsServer } from '@detour/lab';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { detour, json } from './cli-run.js';

let silent: BrokenTlsServer;
const dir = mkdtempSync(join(tmpdir(), 'detour-cli-curl-group-'));

beforeAll(async () => {
  silent = await startBrokenTlsServer('silent');
});
afterAll(async () => {
  await silent?.close();
  rmSync(dir, { recursive: true, force: true });
});

function groupMembers(pgid: number): number[] {
  return readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(group) === pgid && state !== 'Z' ? [Number(entry)] : [];
    } catch {
      return [];
    }
  });
}

it('--timeout 3000 with a wrapper whose grandchild holds stdout: done in ~3 s, no process left', async () => {
  const wrapper = join(dir, 'curl-wrapper.sh');
  const pgidFile = join(dir, 'pgid');
  writeFileSync(
    wrapper,
    `#!/bin/sh\nps -o pgid= -p $$ | tr -d ' ' > '${pgidFile}'\nsleep 30 &\nexec curl "$@"\n`,
  );
  chmodSync(wrapper, 0o755);
  const started = performance.now();
  const run = await detour([
    'fetch',
    `${silent.url}/x`,
    '--curl',
    wrapper,
    '--strategies',
    'curl',
    '--timeout',
    '3000',
    '--allow-private',
    '--no-proxy',
    '--json',
  ]);
  const ms = performance.now() - started;
  expect(run.code).toBe(1);
  const out = json(run);
  expect(out.attempts).toHaveLength(1);
  expect(out.attempts[0]).toMatchObject({ strategy: 'curl', failureClass: 'timeout' });
  // The attempt itself: the deadline plus the kill; the whole command adds Node's start-up.
  expect(out.attempts[0]!.ms as number).toBeLessThan(3500);
  expect(ms).toBeLessThan(10_000); // was ~30 s (the sleep held curl’s pipes); Node start-up under load adds seconds
  const pgid = Number(readFileSync(pgidFile, 'utf8').trim());
  for (let i = 0; i < 25 && groupMembers(pgid).length > 0; i++) await sleep(20);
  expect(groupMembers(pgid)).toEqual([]);
});
