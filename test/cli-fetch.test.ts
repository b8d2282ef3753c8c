import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAB_PNG, type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../node_modules/.bin/detour', import.meta.url));
let lab: Lab;
let dir: string;

beforeAll(async () => {
  lab = await startLab();
  dir = mkdtempSync(join(tmpdir(), 'detour-cli-'));
});
afterAll(async () => {
  await lab?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Run the real `detour` binary, trusting the lab CA through NODE_EXTRA_CA_CERTS like Node does. */
function detour(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      bin,
      args,
      {
        encoding: 'buffer',
        timeout: 30_000,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/root',
          NODE_EXTRA_CA_CERTS: lab.caPath,
          ...env,
        },
      },
      (error, stdout, stderr) => {
        resolve({
          code: error ? ((error as { code?: number }).code ?? 1) : 0,
          stdout,
          stderr: stderr.toString(),
        });
      },
    );
  });
}

const json = (run: Run) => JSON.parse(run.stdout.toString()) as Record<string, unknown>;

describe('detour fetch', () => {
  it('prints the JSON contract on success', async () => {
    const run = await detour([
      'fetch',
      `${lab.https.url}/image.png`,
      '--json',
      '--allow-private',
      '--no-proxy',
    ]);
    expect(run.code).toBe(0);
    const out = json(run);
    expect(out).toMatchObject({
      ok: true,
      url: `${lab.https.url}/image.png`,
      finalUrl: `${lab.https.url}/image.png`,
      strategy: 'direct',
      degraded: false,
      fromCache: false,
      bytes: LAB_PNG.length,
      contentType: 'image/png',
      sha256: createHash('sha256').update(LAB_PNG).digest('hex'),
    });
    const attempts = out.attempts as Array<Record<string, unknown>>;
    expect(attempts[0]).toMatchObject({ strategy: 'direct', route: 'direct', outcome: 'ok' });
    expect(typeof attempts[0]!.ms).toBe('number');
  });

  it('-o FILE writes the file; -o - writes the body to stdout and the report to stderr', async () => {
    const target = join(dir, 'a.png');
    const file = await detour([
      'fetch',
      `${lab.https.url}/image.png`,
      '-o',
      target,
      '--allow-private',
      '--no-proxy',
    ]);
    expect(file.code).toBe(0);
    expect(readFileSync(target).equals(LAB_PNG)).toBe(true);
    const piped = await detour([
      'fetch',
      `${lab.https.url}/image.png`,
      '-o',
      '-',
      '--json',
      '--allow-private',
      '--no-proxy',
      '--log-level',
      'info',
    ]);
    expect(piped.code).toBe(0);
    expect(piped.stdout.equals(LAB_PNG)).toBe(true);
    expect(piped.stderr).toContain('"strategy":"direct"');
  });

  it('goes through --proxy and reports the route without credentials', async () => {
    const run = await detour([
      'fetch',
      `${lab.https.url}/image.png`,
      '--json',
      '--allow-private',
      '--proxy',
      lab.proxies.httpAuth.authUrl,
    ]);
    expect(run.code).toBe(0);
    const attempts = json(run).attempts as Array<Record<string, unknown>>;
    expect(attempts[0]!.route).toBe(lab.proxies.httpAuth.url);
    expect(run.stdout.toString() + run.stderr).not.toContain('lab-secret');
  });

  it('exits 1 with a JSON error when every strategy failed, and leaves no file', async () => {
    const target = join(dir, 'never.png');
    const run = await detour([
      'fetch',
      `${lab.https.url}/html`,
      '--expect',
      'image',
      '--json',
      '--allow-private',
      '--no-proxy',
      '-o',
      target,
    ]);
    expect(run.code).toBe(1);
    const out = json(run);
    expect(out.ok).toBe(false);
    expect(out.error).toMatchObject({ failureClass: 'content-invalid' });
    expect(readdirSync(dir)).not.toContain('never.png');
    expect(readdirSync(dir).filter((f) => f.includes('detour-part'))).toEqual([]);
  });

  it('refuses loopback without --allow-private (blocked, exit 1)', async () => {
    const run = await detour(['fetch', `${lab.https.url}/image.png`, '--json', '--no-proxy']);
    expect(run.code).toBe(1);
    expect(json(run).error).toMatchObject({ failureClass: 'blocked' });
  });

  it('sends -H headers', async () => {
    const run = await detour([
      'fetch',
      `${lab.https.url}/headers`,
      '-o',
      '-',
      '--allow-private',
      '--no-proxy',
      '-H',
      'X-Bot: koishi',
    ]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout.toString())['x-bot']).toBe('koishi');
  });
});
