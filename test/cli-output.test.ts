/** `detour fetch -o`: devices are written into, never replaced; an empty name is a usage error; local-io exits 1. */
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { detour, json } from './cli-run.js';

let lab: Lab;
let dir: string;

beforeAll(async () => {
  lab = await startLab();
  dir = mkdtempSync(join(tmpdir(), 'detour-cli-output-'));
});
afterAll(async () => {
  await lab?.close();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[]) => detour(args, { NODE_EXTRA_CA_CERTS: lab.caPath });
const fetchTo = (output: string, ...more: string[]) =>
  cli(['fetch', `${lab.https.url}/image.png`, '-o', output, '--allow-private', '--no-proxy', ...more]);

it("-o '' is a usage error (exit 2)", async () => {
  const run = await fetchTo('');
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(/-o takes a file name/);
});

const asRoot = process.getuid?.() === 0;
it.skipIf(!asRoot)(
  `-o DEVICE (a /dev/null made with mknod): written into, still a device${asRoot ? '' : ' — skipped: mknod needs root'}`,
  async () => {
    const devNull = join(dir, 'null');
    execFileSync('mknod', ['-m', '666', devNull, 'c', '1', '3']);
    const run = await fetchTo(devNull, '--json');
    expect(run.code).toBe(0);
    expect(json(run)).toMatchObject({ ok: true, strategy: 'direct' });
    expect(lstatSync(devNull).isCharacterDevice()).toBe(true);
    expect(lstatSync(devNull).rdev).toBe(statSync('/dev/null').rdev);
    expect(readdirSync(dir)).toEqual(['null']);
  },
);

it('-o into a missing directory: local-io, exit 1, the message names the path', async () => {
  const target = join(dir, 'missing', 'a.png');
  const run = await fetchTo(target, '--json');
  expect(run.code).toBe(1);
  const out = json(run) as unknown as { error: { failureClass: string; code: string; message: string } };
  expect(out.error).toMatchObject({ failureClass: 'local-io', code: 'ENOENT' });
  expect(out.error.message).toContain(target);
  expect(out.error.message).not.toContain('.detour-part');
});
