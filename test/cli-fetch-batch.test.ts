/**
 * Batch mode a user can follow (issue 23 item 14), through the real CLI: a bad line of -i FILE is
 * reported with its line number and skipped while the rest are fetched (exit 1); the listing is
 * in input order (a slow first URL stays first), each row with its source URL next to the file;
 * a URL listed twice is fetched once; files are named by the format of the real bytes (a GIF
 * served as .webp is saved as .gif).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_PNG, type Lab, type Listening, listenTracked, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detour } from './cli-run.js';

// The smallest GIF: a 1×1 transparent pixel.
const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

let lab: Lab;
let gifServer: Listening;
let gifUrl: string;
let dir: string;
const gifHits: Record<string, number> = {};
beforeAll(async () => {
  lab = await startLab();
  // A GIF served under a .webp name (with a WebP content type, as a lying CDN does); /slow.webp
  // answers after 1.5 s so that it ends last although it is listed first.
  const server = createServer((req, res) => {
    gifHits[req.url ?? ''] = (gifHits[req.url ?? ''] ?? 0) + 1;
    const send = () =>
      res.writeHead(200, { 'content-type': 'image/webp', 'content-length': GIF.length }).end(GIF);
    if (req.url === '/slow.webp') setTimeout(send, 1_500);
    else send();
  });
  gifServer = await listenTracked(server);
  gifUrl = `http://127.0.0.1:${gifServer.port}`;
  dir = mkdtempSync(join(tmpdir(), 'detour-batch-'));
});
afterAll(async () => {
  await Promise.all([lab?.close(), gifServer?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function list(name: string): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    [
      `${gifUrl}/slow.webp`, // 1
      '# a comment', // 2
      `${lab.https.url}/image.png`, // 3
      'not a url', // 4
      'ftp://127.0.0.1/x.png', // 5
      `${lab.https.url}/image.png`, // 6: again
      `${gifUrl}/pic.webp`, // 7
      `${lab.https.url}/status/404`, // 8
      `${lab.https.url}/redirect-to?url=/image.png`, // 9: no extension in the name
    ].join('\n'),
  );
  return path;
}

const run = (args: string[]) =>
  detour(['fetch', ...args, '--allow-private', '--no-proxy', '--concurrency', '4'], {
    NODE_EXTRA_CA_CERTS: lab.caPath,
  });

describe('detour fetch -i FILE -O DIR', () => {
  it('human: input order, source URLs, bad lines by number, one fetch per URL, names from the bytes; exit 1', async () => {
    const out = join(dir, 'human');
    lab.https.routes.resetCounts();
    const result = await run(['-i', list('human.txt'), '-O', out]);
    expect(result.code, result.stderr).toBe(1);
    const rows = result.stdout
      .toString()
      .split('\n')
      .filter((l) => /^\[\d\/7\]/.test(l));
    expect(rows).toHaveLength(7);
    expect(rows[0]).toMatch(
      new RegExp(`^\\[1/7\\] ok +${out}/slow\\.gif  <- ${gifUrl}/slow\\.webp  direct, `),
    );
    expect(rows[1]).toMatch(
      new RegExp(
        `^\\[2/7\\] ok +${out}/image\\.png  <- https://localhost:\\d+/image\\.png \\(lines 3, 6: fetched once\\)  direct, `,
      ),
    );
    expect(rows[2]).toBe('[3/7] skipped   line 4: not an http(s) URL: "not a url" (DETOUR_BAD_URL)');
    expect(rows[3]).toBe(
      '[4/7] skipped   line 5: not an http(s) URL (ftp:): "ftp://127.0.0.1/x.png" (DETOUR_BAD_URL)',
    );
    expect(rows[4]).toMatch(new RegExp(`^\\[5/7\\] ok +${out}/pic\\.gif  <- ${gifUrl}/pic\\.webp  direct, `));
    expect(rows[5]).toMatch(
      /^\[6\/7\] failed +\S+404 {2}<- https:\/\/localhost:\d+\/status\/404 {2}http-status: /,
    );
    expect(rows[6]).toMatch(/^\[7\/7\] ok +\S+\/redirect-to-[0-9a-f]{8}\.png {2}<- /);
    expect(result.stdout.toString()).toMatch(/^files +ok +degraded +failed +skipped\n[- ]+\n7 +4 +0 +1 +2$/m);

    expect(lab.https.routes.hits('/image.png')).toBe(2); // once listed twice, once behind the redirect
    expect(gifHits['/pic.webp']).toBe(1);
    expect(readdirSync(out).sort()).toEqual([
      'image.png',
      'pic.gif',
      expect.stringMatching(/^redirect-to-[0-9a-f]{8}\.png$/),
      'slow.gif',
    ]);
    expect(readFileSync(join(out, 'pic.gif')).equals(GIF)).toBe(true);
    expect(readFileSync(join(out, 'image.png')).equals(LAB_PNG)).toBe(true);
  });

  it('--json: the same rows in input order, with url, file, lines; bad lines skipped; summary counts', async () => {
    const out = join(dir, 'json');
    const result = await run(['-i', list('json.txt'), '-O', out, '--json']);
    expect(result.code, result.stderr).toBe(1);
    const doc = JSON.parse(result.stdout.toString()) as {
      ok: boolean;
      files: Array<{
        ok: boolean;
        url: string;
        file: string | null;
        lines?: number[];
        skipped?: boolean;
        format?: string;
        error?: { code: string; message: string };
      }>;
      summary: Record<string, unknown>;
    };
    expect(doc.ok).toBe(false);
    expect(
      doc.files.map((f) => [
        f.ok,
        f.url.replace(/:\d+/, ':PORT'),
        f.file?.slice(out.length + 1) ?? null,
        f.lines,
      ]),
    ).toEqual([
      [true, 'http://127.0.0.1:PORT/slow.webp', 'slow.gif', [1]],
      [true, 'https://localhost:PORT/image.png', 'image.png', [3, 6]],
      [false, 'not a url', null, [4]],
      [false, 'ftp://127.0.0.1/x.png', null, [5]],
      [true, 'http://127.0.0.1:PORT/pic.webp', 'pic.gif', [7]],
      [false, 'https://localhost:PORT/status/404', '404', [8]],
      [
        true,
        'https://localhost:PORT/redirect-to?url=/image.png',
        expect.stringMatching(/^redirect-to-[0-9a-f]{8}\.png$/),
        [9],
      ],
    ]);
    expect(doc.files[2]).toMatchObject({
      skipped: true,
      error: { code: 'DETOUR_BAD_URL', message: 'line 4: not an http(s) URL: "not a url"' },
    });
    expect(doc.files[4]).toMatchObject({ format: 'gif' });
    expect(doc.summary).toEqual({
      files: 7,
      ok: 4,
      degraded: 0,
      failed: 1,
      skipped: 2,
      duplicates: 1,
      strategies: { direct: 4 },
    });
  });

  it('every line bad: nothing fetched, each reported, exit 1', async () => {
    const path = join(dir, 'bad.txt');
    writeFileSync(path, 'nope\nhttps://localhost:99999/a.png\n');
    const result = await run(['-i', path, '-O', join(dir, 'bad')]);
    expect(result.code).toBe(1);
    expect(result.stdout.toString()).toContain('[1/2] skipped   line 1: not an http(s) URL: "nope"');
    expect(result.stdout.toString()).toContain(
      '[2/2] skipped   line 2: port 99999 is out of range (0-65535)',
    );
  });
});
