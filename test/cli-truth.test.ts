/**
 * Issue 23 ("truth at every surface") through the real `detour` binary against the lab: what the
 * CLI says is what happened.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detour, json } from './cli-run.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

describe('no pointless retries (item 12)', () => {
  it('a body refused for its content is not downloaded again by curl: curl is skipped with its reason', async () => {
    const before = lab.https.routes.hits('/html');
    const run = await detour(
      [
        'fetch',
        `${lab.https.url}/html`,
        '--json',
        '--allow-private',
        '--no-proxy',
        '--no-cache',
        '--expect',
        'image',
        '--strategies',
        'direct,curl',
      ],
      { NODE_EXTRA_CA_CERTS: lab.caPath },
    );
    expect(run.code).toBe(1);
    const out = json(run);
    expect(out.attempts.map((a) => [a.strategy, a.outcome, a.failureClass ?? a.message])).toEqual([
      ['direct', 'failed', 'content-invalid'],
      ['curl', 'skipped', 'cannot rescue content-invalid'],
    ]);
    // One download of the HTML, not two.
    expect(lab.https.routes.hits('/html') - before).toBe(1);
  });
});

describe('one rule picks the most telling failure (item 3)', () => {
  // The origin answers 503; the placeholder stands in but cannot have the expected size. The
  // placeholder's failure says nothing about the origin: the server's answer is what is told.
  const args = (url: string) => [
    'fetch',
    url,
    '--allow-private',
    '--no-proxy',
    '--no-cache',
    '--placeholder',
    '--expect',
    'image',
    '--expect-bytes',
    '12345',
    '--strategies',
    'direct,placeholder',
  ];

  it("the CLI names the server's failure, not the placeholder's, in JSON and in its line", async () => {
    const url = `${lab.https.url}/status/503`;
    const run = await detour([...args(url), '--json'], { NODE_EXTRA_CA_CERTS: lab.caPath });
    expect(run.code).toBe(1);
    const out = json(run);
    expect(out.attempts.map((a) => [a.strategy, a.outcome, a.failureClass])).toEqual([
      ['direct', 'failed', 'http-status'],
      ['placeholder', 'failed', 'content-invalid'],
    ]);
    expect(out.error).toMatchObject({ failureClass: 'http-status', code: 'HTTP_503' });
    expect((out.error as { message: string }).message).toMatch(/HTTP 503/);
    const human = await detour(args(url), { NODE_EXTRA_CA_CERTS: lab.caPath });
    expect(human.stderr.split('\n')[0]).toMatch(/^detour: http-status: HTTP 503 .*\(HTTP_503, in direct\)/);
    expect(human.stderr.split('\n')[0]).not.toMatch(/SIZE_MISMATCH|placeholder/);
  });
});

describe('the whole plan in every trace (item 4)', () => {
  const args = [
    '--allow-private',
    '--no-proxy',
    '--no-cache',
    '--timeout',
    '1500',
    '--strategies',
    'direct,curl',
  ];

  it('--json carries plan; a strategy the deadline left no turn is listed as skipped, with why', async () => {
    const run = await detour(['fetch', `${lab.https.url}/stall-after-headers`, '--json', ...args], {
      NODE_EXTRA_CA_CERTS: lab.caPath,
    });
    expect(run.code).toBe(1);
    const out = json(run);
    expect(out.plan).toEqual(['direct', 'curl']);
    expect(out.attempts.map((a) => [a.strategy, a.outcome, a.failureClass ?? a.message])).toEqual([
      ['direct', 'failed', 'timeout'],
      ['curl', 'skipped', 'the deadline passed before its turn'],
    ]);
  });

  it('the human table shows the same rows', async () => {
    const run = await detour(['fetch', `${lab.https.url}/stall-after-headers`, ...args], {
      NODE_EXTRA_CA_CERTS: lab.caPath,
    });
    expect(run.code).toBe(1);
    const rows = run.stderr.split('\n').filter((line) => /^\d+ /.test(line));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^1 +direct +direct +failed +timeout/);
    expect(rows[1]).toMatch(/^2 +curl +direct +skipped +the deadline passed before its turn/);
  });

  it('a success lists every planned strategy: those after the winner skipped, with why, in --json and the table', async () => {
    // The detected plan with a placeholder: four strategies, and direct wins at once.
    const success = ['fetch', `${lab.https.url}/image.png`, '--allow-private', '--no-proxy', '--no-cache'];
    const plan = ['direct', 'tls-relaxed', 'curl', 'placeholder'];
    const run = await detour([...success, '--placeholder', '--json'], { NODE_EXTRA_CA_CERTS: lab.caPath });
    expect(run.code).toBe(0);
    const out = json(run);
    expect(out.plan).toEqual(plan);
    expect(out.attempts).toEqual([
      expect.objectContaining({ strategy: 'direct', route: 'direct', outcome: 'ok', status: 200 }),
      ...plan.slice(1).map((strategy) => ({
        strategy,
        route: 'direct',
        outcome: 'skipped',
        ms: 0,
        message: 'not needed: direct succeeded',
      })),
    ]);

    const dir = mkdtempSync(join(tmpdir(), 'detour-truth-'));
    try {
      const human = await detour([...success, '--placeholder', '-o', join(dir, 'a.png')], {
        NODE_EXTRA_CA_CERTS: lab.caPath,
      });
      expect(human.code).toBe(0);
      const rows = human.stdout
        .toString()
        .split('\n')
        .filter((line) => /^\d+ /.test(line));
      expect(rows).toHaveLength(4);
      expect(rows[0]).toMatch(/^1 +direct +direct +ok +\d+$/);
      plan.slice(1).forEach((strategy, i) => {
        expect(rows[i + 1]).toMatch(
          new RegExp(`^${i + 2} +${strategy} +direct +skipped +not needed: direct succeeded +0$`),
        );
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a success carries plan too', async () => {
    const run = await detour(['fetch', `${lab.https.url}/image.png`, '--json', ...args], {
      NODE_EXTRA_CA_CERTS: lab.caPath,
    });
    expect(run.code).toBe(0);
    expect(json(run).plan).toEqual(['direct', 'curl']);
    expect(json(run).attempts.map((a) => [a.strategy, a.outcome])).toEqual([
      ['direct', 'ok'],
      ['curl', 'skipped'],
    ]);
  });
});
