/** `detour fetch URL… -O DIR` and `-i FILE` through the real CLI, against the lab. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_PNG, type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detour } from './cli-run.js';

let lab: Lab;
let dir: string;
beforeAll(async () => {
  lab = await startLab();
  dir = mkdtempSync(join(tmpdir(), 'detour-many-'));
});
afterAll(async () => {
  await lab?.close();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[]) => detour(args, { NODE_EXTRA_CA_CERTS: lab.caPath });

describe('detour fetch, many files', () => {
  it('-i FILE -O DIR --concurrency 2 --json: one document, every file, ok/degraded/failed and strategy counts, exit 1', async () => {
    const list = join(dir, 'urls.txt');
    const out = join(dir, 'out-json');
    writeFileSync(
      list,
      [
        '# media for the bot',
        `${lab.https.url}/image.png`,
        '',
        `${lab.legacy.sha1Signatures.url}/image.png?fileid=abc`,
        `${lab.downgrade.httpsUrl}/image.png`,
        `${lab.https.url}/status/404`,
      ].join('\n'),
    );
    const result = await cli([
      'fetch',
      '-i',
      list,
      '-O',
      out,
      '--concurrency',
      '2',
      '--json',
      '--allow-private',
      '--no-proxy',
      '--placeholder',
      '--expect',
      'image',
    ]);
    expect(result.code).toBe(1);
    const doc = JSON.parse(result.stdout.toString()) as {
      ok: boolean;
      files: Array<{
        ok: boolean;
        file: string;
        strategy: string | null;
        degraded: boolean;
        error?: { failureClass: string };
      }>;
      summary: Record<string, unknown>;
    };
    expect(doc.ok).toBe(false);
    expect(doc.summary).toEqual({
      files: 4,
      ok: 2,
      degraded: 1,
      failed: 1,
      skipped: 0,
      duplicates: 0,
      strategies: { direct: 1, 'tls-relaxed': 1, placeholder: 1 },
    });
    expect(doc.files.map((f) => [f.ok, f.strategy, f.degraded])).toEqual([
      [true, 'direct', false],
      [true, 'tls-relaxed', false],
      [true, 'placeholder', true],
      [false, null, false],
    ]);
    expect(doc.files[3]!.error).toMatchObject({ failureClass: 'http-status' });
    expect(readFileSync(join(out, 'image.png')).equals(LAB_PNG)).toBe(true);
    const written = readdirSync(out).sort();
    expect(written).toHaveLength(3); // the 404 left nothing behind
    expect(written).toContain('image-2.png');
    expect(written.filter((f) => f.includes('detour-part'))).toEqual([]);
  });

  it('URL… -O DIR: one line per file, then the summary tables; exit 0 when none failed', async () => {
    const out = join(dir, 'out-human');
    const result = await cli([
      'fetch',
      `${lab.https.url}/image.png`,
      `${lab.legacy.tls10.url}/image.png`,
      '-O',
      out,
      '--allow-private',
      '--no-proxy',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.toString().split('\n');
    expect(
      lines.filter((l) =>
        /^\[\d\/2\] ok +\S+image(-2)?\.png {2}<- https:\/\/localhost:\d+\/image\.png {2}(direct|tls-relaxed), /.test(
          l,
        ),
      ),
    ).toHaveLength(2);
    expect(result.stdout.toString()).toMatch(
      /^files {2}ok {2}degraded {2}failed {2}skipped\n-+ +-+ +-+ +-+ +-+\n2 +2 +0 +0 +0$/m,
    );
    expect(result.stdout.toString()).toMatch(/^strategy +files$/m);
    expect(readdirSync(out).sort()).toEqual(['image-2.png', 'image.png']);
  });

  it('masks secrets (rkey, URL credentials) in every file line and the --json document; --show-secrets prints them', async () => {
    const ok = `${lab.https.url}/image.png?rkey=SECRET-RKEY-1&x=1`;
    const bad = `${lab.https.url.replace('https://', 'https://user:SECRET-PASS@')}/status/404?token=SECRET-TOKEN-2`;
    for (const json of [true, false]) {
      const out = join(dir, `out-secrets-${json}`);
      const args = [
        'fetch',
        ok,
        bad,
        '-O',
        out,
        '--allow-private',
        '--no-proxy',
        ...(json ? ['--json'] : []),
      ];
      const result = await cli(args);
      expect(result.code).toBe(1);
      const printed = `${result.stdout.toString()}${result.stderr.toString()}`;
      expect(printed).not.toMatch(/SECRET-/);
      if (json) {
        const doc = JSON.parse(result.stdout.toString()) as { files: Array<{ url: string }> };
        expect(doc.files.map((f) => f.url).sort()).toHaveLength(2);
      }
    }
    // Only the --json document quotes URLs: there --show-secrets prints them as given.
    const shown = await cli([
      'fetch',
      ok,
      bad,
      '-O',
      join(dir, 'out-shown'),
      '--allow-private',
      '--no-proxy',
      '--json',
      '--show-secrets',
    ]);
    const files = (JSON.parse(shown.stdout.toString()) as { files: Array<{ url: string }> }).files;
    expect(files.map((f) => f.url).join(' ')).toMatch(
      /SECRET-RKEY-1.*SECRET-TOKEN-2|SECRET-TOKEN-2.*SECRET-RKEY-1/,
    );
  });

  it.each([
    [['fetch', 'https://127.0.0.1/a', 'https://127.0.0.1/b'], /several URLs need -O DIR/],
    [['fetch', 'https://127.0.0.1/a', '-O', '/tmp', '-o', 'x'], /-o FILE and -O DIR exclude each other/],
    [['fetch', '-O', '/tmp'], /fetch needs a URL/],
    [['fetch', '-i', '/nonexistent/list', '-O', '/tmp'], /-i \/nonexistent\/list: ENOENT/],
    [['fetch', 'https://127.0.0.1/a', 'ftp://x/', '-O', '/tmp'], /not an http\(s\) URL/],
    [
      ['fetch', 'https://127.0.0.1/a', '-O', '/tmp', '--concurrency', '0'],
      /--concurrency takes a positive whole number/,
    ],
  ])('%j is bad usage (exit 2)', async (args, message) => {
    const result = await cli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
