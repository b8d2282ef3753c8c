/**
 * Publishable packages: pack every public package with `pnpm pack`, install the tarballs into a
 * fresh project with npm (third-party dependencies from the registry), then use them as a user
 * would: `detour --version`, `detour fetch` against the lab (and with `--convert wav|mp3`), `detour
 * demo`, and an `import` of each.
 * Needs the build (dist/) and the npm registry; takes a minute or two.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { wavInfo } from '@detour/core/internal';
import { LAB_PNG, type Lab, makeSilkClip, readMp3Frames, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshStateHome } from './cli-run.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  description?: string;
  keywords?: string[];
  repository?: unknown;
  license?: string;
  files?: string[];
}
const publicPackages = readdirSync(join(root, 'packages'))
  .map((dir) => ({
    dir,
    manifest: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as Manifest,
  }))
  .filter((p) => !p.manifest.private);

let work: string;
let project: string;
let lab: Lab;
// The installed CLI keeps its state in a directory of the test's own, never the user's.
const env = {
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '/root',
  XDG_STATE_HOME: freshStateHome(),
};

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'detour-pack-'));
  const tarballs = join(work, 'tarballs');
  project = join(work, 'project');
  mkdirSync(tarballs);
  mkdirSync(project);
  const [started] = await Promise.all([
    startLab(),
    run('npx', ['-y', 'pnpm@10', '-r', 'pack', '--pack-destination', tarballs], {
      cwd: root,
      maxBuffer: 16 << 20,
    }),
  ]);
  lab = started;
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  // `pnpm -r pack` packs private workspace packages too (examples): install only the public ones.
  const files = publicPackages.map(({ manifest: m }) =>
    join(tarballs, `${m.name.replace('@', '').replace('/', '-')}-${m.version}.tgz`),
  );
  // koishi is the Koishi plugin's peer (a Koishi app has it): installed next to the tarballs.
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      '--prefer-offline',
      '--legacy-peer-deps',
      ...files,
      'koishi@^4.18.0',
    ],
    { cwd: project, maxBuffer: 16 << 20, env: { ...env, npm_config_update_notifier: 'false' } },
  );
}, 600_000);
afterAll(async () => {
  await lab?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const detour = (args: string[], timeout = 120_000) =>
  run(join(project, 'node_modules/.bin/detour'), args, {
    cwd: project,
    timeout,
    env: { ...env, NODE_EXTRA_CA_CERTS: lab.caPath },
    maxBuffer: 16 << 20,
  });

describe('every public package is publishable', () => {
  it.each(publicPackages.map((p) => [p.manifest.name, p] as const))(
    '%s: description, keywords, repository, license, files, LICENSE',
    (_name, p) => {
      const m = p.manifest;
      expect(m.description?.length).toBeGreaterThan(20);
      expect(m.keywords?.length).toBeGreaterThan(0);
      expect(m.repository).toMatchObject({ type: 'git', directory: `packages/${p.dir}` });
      expect(m.license).toBe('MIT');
      expect(m.files).toEqual(expect.arrayContaining(['dist', 'README.md', 'LICENSE']));
      expect(readFileSync(join(root, 'packages', p.dir, 'LICENSE'), 'utf8')).toContain('MIT License');
    },
  );
});

describe('packed, installed with npm into a fresh project', () => {
  it('every package is installed from its tarball, with no workspace: ranges left', () => {
    for (const { manifest } of publicPackages) {
      const installed = JSON.parse(
        readFileSync(join(project, 'node_modules', manifest.name, 'package.json'), 'utf8'),
      ) as {
        version: string;
        dependencies?: Record<string, string>;
      };
      expect(installed.version).toBe(manifest.version);
      expect(Object.values(installed.dependencies ?? {}).filter((v) => v.startsWith('workspace:'))).toEqual(
        [],
      );
      expect(readdirSync(join(project, 'node_modules', manifest.name))).toEqual(
        expect.arrayContaining(['LICENSE', 'README.md', 'dist']),
      );
    }
  });

  it('detour --version prints the CLI version', async () => {
    const cli = publicPackages.find((p) => p.manifest.name === '@detour/cli')!;
    const { stdout } = await detour(['--version']);
    expect(stdout).toBe(`${cli.manifest.version}\n`);
  });

  it('detour fetch downloads from the lab', async () => {
    const { stdout } = await detour([
      'fetch',
      `${lab.https.url}/image.png`,
      '--json',
      '--allow-private',
      '--no-proxy',
    ]);
    expect(JSON.parse(stdout)).toMatchObject({ ok: true, strategy: 'direct', bytes: LAB_PNG.length });
  });

  it('detour fetch --convert wav and mp3: the installed CLI (its bundle) finds the SILK decoder and the MP3 encoder', async () => {
    const clip = await makeSilkClip(5_000);
    const origin = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'audio/amr', 'content-length': clip.length });
      res.end(clip);
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(origin.address() as AddressInfo).port}/voice.amr`;
      for (const to of ['wav', 'mp3']) {
        const out = join(work, `voice.${to}`);
        const { stdout } = await detour([
          'fetch',
          url,
          '--json',
          '--allow-private',
          '--no-proxy',
          '--convert',
          to,
          '-o',
          out,
        ]);
        expect(JSON.parse(stdout)).toMatchObject({ ok: true, format: to, converted: { from: 'silk', to } });
        const body = readFileSync(out);
        const ms = to === 'wav' ? wavInfo(body)?.durationMs : readMp3Frames(body).durationMs;
        expect(Math.abs(ms! - 5_000) / 5_000).toBeLessThan(0.05);
      }
    } finally {
      await new Promise((resolve) => origin.close(resolve));
    }
  });

  it('detour demo runs from the installed CLI (the lab comes with it)', async () => {
    const { stdout } = await detour(['demo', '--json'], 300_000);
    const out = JSON.parse(stdout) as { ok: boolean; scenarios: unknown[] };
    expect(out.scenarios.length).toBeGreaterThan(5);
    expect(out.ok).toBe(true);
  }, 310_000);

  it.each(publicPackages.map((p) => [p.manifest.name]))('import %s', async (name) => {
    const { stdout } = await run(
      'node',
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(name)}); console.log(Object.keys(m).length);`,
      ],
      { cwd: project, env },
    );
    expect(Number(stdout)).toBeGreaterThan(0);
  });

  it('import detour/front-end: the kit is a subpath of the installed detour', async () => {
    const { stdout } = await run(
      'node',
      [
        '--input-type=module',
        '-e',
        "const k = await import('detour/front-end'); console.log(k.validateOptions({ timeoutMs: '5' }).timeoutMs, k.LOG_LEVELS.length);",
      ],
      { cwd: project, env },
    );
    expect(stdout.trim()).toBe('5 7');
  });
});
