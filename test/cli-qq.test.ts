/**
 * `detour fetch` against the Tencent twin, end to end: the real CLI binary runs in a private mount
 * namespace whose /etc/hosts maps Tencent's real names to 127.0.0.1 and whose resolv.conf points
 * at a dead address (no other name resolves; the prefix checks the mapping with getent before the
 * CLI runs), so the host-based preset logic is exercised and nothing can reach the real CDN.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  HOSTS_CHECK_FAILED,
  type HostsNamespace,
  hostsNamespace,
  hostsNamespaceSupport,
  makePng,
  startTencentTwin,
  TENCENT_TWIN_NAMES,
  type TencentTwin,
} from '@detour/lab';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CliRun, detourIn } from './cli-run.js';

const support = hostsNamespaceSupport();
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const PICTURE = makePng(48);
const SILK = Buffer.concat([Buffer.from('#!SILK_V3'), randomBytes(3_000)]);
const BIG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(540 * 1024 - 4)]);

let twin: TencentTwin;
let ns: HostsNamespace;
let dir: string;

// biome-ignore lint/suspicious/noExplicitAny: JSON read back from the CLI, checked with toMatchObject
const json = (run: CliRun) => JSON.parse(run.stdout.toString()) as Record<string, any>;

describe.skipIf(support !== true)(
  `detour fetch against the Tencent twin (real names)${support === true ? '' : ` — skipped: ${support}`}`,
  () => {
    beforeAll(async () => {
      twin = await startTencentTwin({
        files: {
          picture: { bytes: PICTURE },
          voice: { bytes: SILK, appid: 1402, contentType: 'audio/amr' },
          big: { bytes: BIG, truncate: 'range' },
        },
      });
      ns = hostsNamespace(Object.fromEntries(TENCENT_TWIN_NAMES.map((n) => [n, '127.0.0.1'])));
      dir = mkdtempSync(join(tmpdir(), 'detour-cli-qq-'));
    });
    beforeEach(() => {
      twin.hits.length = 0;
    });
    afterAll(async () => {
      await twin?.close();
      ns?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('the namespace resolves only the mapped names, to loopback', async () => {
      const run = (cmd: string, args: string[]) =>
        new Promise<{ code: number; out: string }>((resolve) => {
          const w = ns.wrap(cmd, args);
          execFile(w.command, w.args, (error, stdout) =>
            resolve({ code: error ? Number(error.code) : 0, out: String(stdout) }),
          );
        });
      expect(await run('getent', ['hosts', 'multimedia.nt.qq.com.cn'])).toMatchObject({
        code: 0,
        out: expect.stringMatching(/^127\.0\.0\.1\s/),
      });
      expect((await run('getent', ['hosts', 'p.qpic.cn'])).code).not.toBe(0);
      expect(() => hostsNamespace({ 'gchat.qpic.cn': '203.0.113.7' })).toThrow(/not a loopback/);
      expect(HOSTS_CHECK_FAILED).toBe(97);
    });

    it('an expired URL: exit 1, url-expired with retcode -5503007, one request to the origin, nothing cached', async () => {
      const url = twin.downloadUrl('picture');
      twin.rotateKeys();
      const cacheDir = join(dir, 'cache-expired');
      const run = await detourIn(ns, ['fetch', url, '--json', '--allow-private', '--cache-dir', cacheDir]);
      expect(run.code).toBe(1);
      const out = json(run);
      expect(out).toMatchObject({
        ok: false,
        error: {
          failureClass: 'url-expired',
          code: 'DETOUR_URL_EXPIRED',
          retcode: -5503007,
          retmsg: 'download url has expired',
        },
      });
      expect(twin.hits).toHaveLength(1);
      expect(
        existsSync(join(cacheDir, 'content-v2')) ? readdirSync(join(cacheDir, 'content-v2')) : [],
      ).toEqual([]);
    });

    it('--expect audio accepts the SILK twin with format silk; --expect image refuses it', async () => {
      const url = twin.downloadUrl('voice');
      const audio = await detourIn(ns, ['fetch', url, '--json', '--allow-private', '--expect', 'audio']);
      expect(audio.code).toBe(0);
      expect(json(audio)).toMatchObject({
        ok: true,
        format: 'silk',
        contentType: 'audio/amr',
        bytes: SILK.length,
      });
      const image = await detourIn(ns, ['fetch', url, '--json', '--allow-private', '--expect', 'image']);
      expect(image.code).toBe(1);
      expect(json(image).error).toMatchObject({
        failureClass: 'content-invalid',
        code: 'DETOUR_NOT_AN_IMAGE',
      });
    });

    it('--expect-bytes: another size fails with DETOUR_SIZE_MISMATCH', async () => {
      const url = twin.downloadUrl('voice');
      const run = await detourIn(ns, ['fetch', url, '--json', '--allow-private', '--expect-bytes', '12345']);
      expect(run.code).toBe(1);
      expect(json(run).error).toMatchObject({
        failureClass: 'content-invalid',
        code: 'DETOUR_SIZE_MISMATCH',
      });
    });

    it('a truncated body: one full GET plus a range request, the right sha256 in the file', async () => {
      const out = join(dir, 'big.jpg');
      const run = await detourIn(ns, [
        'fetch',
        twin.downloadUrl('big'),
        '--json',
        '--allow-private',
        '-o',
        out,
      ]);
      expect(run.code).toBe(0);
      expect(json(run)).toMatchObject({ ok: true, sha256: sha256(BIG), format: 'jpeg' });
      expect(json(run).attempts[0]).toMatchObject({ strategy: 'direct', resumes: 1 });
      expect(twin.hits.filter((h) => h.range === undefined)).toHaveLength(1);
    });

    it('&amp; is decoded by the preset; --no-preset qq turns it off', async () => {
      const url = twin.downloadUrl('picture', { amp: true });
      const on = await detourIn(ns, ['fetch', url, '--json', '--allow-private', '--expect', 'image']);
      expect(on.code).toBe(0);
      expect(json(on).finalUrl).not.toContain('amp;');
      const off = await detourIn(ns, ['fetch', url, '--json', '--allow-private', '--no-preset', 'qq']);
      expect(off.code).toBe(1);
      expect(json(off).error).toMatchObject({ failureClass: 'http-status', code: 'HTTP_400' });
    });
  },
);
