/**
 * Issue 25 item 2, end to end: `detour fetch --cache-dir DIR --cache-max-size SIZE` keeps the
 * directory in bounds, and `detour cache ls | prune | clear` look into it and trim it. Real CLI
 * runs against the lab's HTTPS origin on loopback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directorySize } from '@detour/core/internal';
import { type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detour, json } from './cli-run.js';

let lab: Lab;
let root: string;
beforeAll(async () => {
  lab = await startLab();
  root = mkdtempSync(join(tmpdir(), 'detour-cli-cache-'));
});
afterAll(async () => {
  await lab?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

const env = () => ({ NODE_EXTRA_CA_CERTS: lab.caPath });
const fetchInto = (dir: string, path: string, extra: string[] = []) =>
  detour(
    ['fetch', `${lab.https.url}${path}`, '--json', '--allow-private', '--cache-dir', dir, ...extra],
    env(),
  );

describe('detour cache', () => {
  it('ls lists each entry (masked URL, size, format, times, strategy, flags); prune and clear remove them', async () => {
    const dir = join(root, 'ls');
    expect((await fetchInto(dir, '/image.png?rkey=very-secret-key')).code).toBe(0);
    expect((await fetchInto(dir, '/big?bytes=20000')).code).toBe(0);
    const again = await fetchInto(dir, '/image.png?rkey=very-secret-key');
    expect(json(again).fromCache).toBe(true);

    const ls = await detour(['cache', 'ls', '--cache-dir', dir, '--json']);
    expect(ls.code).toBe(0);
    const entries = JSON.parse(ls.stdout.toString()) as Array<Record<string, unknown>>;
    expect(entries).toHaveLength(2);
    const big = entries.find((e) => String(e.url).includes('/big'))!;
    const image = entries.find((e) => String(e.url).includes('/image.png'))!;
    expect(big).toMatchObject({ size: 20000, format: 'png', strategy: 'direct', flags: [] });
    expect(image.url).toContain('rkey=***');
    expect(ls.stdout.toString()).not.toContain('very-secret-key');
    for (const field of ['storedAt', 'lastUsedAt', 'expiresAt']) {
      expect(new Date(String(image[field])).toISOString()).toBe(image[field]);
    }
    // Least recently used first: the image was used again after the big file was stored.
    expect(entries[0]).toBe(big);
    expect(Date.parse(String(image.lastUsedAt))).toBeGreaterThan(Date.parse(String(image.storedAt)));

    const human = await detour(['cache', 'ls', '--cache-dir', dir]);
    expect(human.stdout.toString()).toMatch(
      /^last used \(UTC\) +stored \(UTC\) +size +format +strategy +flags +url$/m,
    );
    expect(human.stdout.toString()).toMatch(/^2 entries, /m);

    // Prune to less than both: the least recently used (the big file) goes first.
    const prune = await detour(['cache', 'prune', '--cache-dir', dir, '--max-size', '19KiB', '--json']);
    expect(prune.code).toBe(0);
    const pruned = JSON.parse(prune.stdout.toString());
    expect(pruned.removed).toBeGreaterThanOrEqual(1);
    expect(pruned.size).toBeLessThanOrEqual(19 * 1024);
    expect(await directorySize(dir)).toBe(pruned.size);

    const clear = await detour(['cache', 'clear', '--cache-dir', dir]);
    expect(clear.code).toBe(0);
    expect(clear.stdout.toString()).toMatch(/^removed \d+ entr(y|ies) \(.*\); .* now holds 0 B$/m);
    const empty = await detour(['cache', 'ls', '--cache-dir', dir, '--json']);
    expect(JSON.parse(empty.stdout.toString())).toEqual([]);
    expect(json(await fetchInto(dir, '/image.png?rkey=very-secret-key')).fromCache).toBe(false);
  }, 120_000);

  it('fetch --cache-max-size keeps the directory under the cap; the newest entry still hits', async () => {
    const dir = join(root, 'cap');
    const cap = 64 * 1024;
    for (let i = 0; i < 8; i++) {
      const run = await fetchInto(dir, `/big?bytes=${15000 + i}`, ['--cache-max-size', '64KiB']);
      expect(run.code).toBe(0);
      expect(await directorySize(dir)).toBeLessThanOrEqual(cap);
    }
    expect(json(await fetchInto(dir, '/big?bytes=15007', ['--cache-max-size', '64KiB'])).fromCache).toBe(
      true,
    );
    expect(json(await fetchInto(dir, '/big?bytes=15000', ['--cache-max-size', '64KiB'])).fromCache).toBe(
      false,
    );
  }, 120_000);

  it('bad usage: no --cache-dir, an unknown action, a bad size (exit 2)', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['cache', 'ls'], /cache ls needs --cache-dir DIR/],
      [['cache', 'list', '--cache-dir', root], /cache takes one of ls, prune, clear, got "list"/],
      [['cache', 'prune', '--cache-dir', root, '--max-size', '12 parsecs'], /--max-size takes a size/],
      [
        ['fetch', 'https://example.invalid/a', '--cache-max-size', '1G'],
        /--cache-max-size needs --cache-dir/,
      ],
    ];
    for (const [args, message] of cases) {
      const run = await detour(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(message);
    }
  }, 60_000);
});
