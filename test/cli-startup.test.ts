/**
 * Issue 25 item 4: `detour --version` and `--help` load only the CLI's definitions, and each
 * command loads only what it uses. Checked on what the build produces (run `pnpm build` first):
 * tsc's modules (CommonJS dependencies show in `require.cache` once loaded) and the start-up
 * bundle (what the entry loads before any command runs). The time itself is bench figure 9.
 */
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { detour } from './cli-run.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BUNDLE = join(ROOT, 'packages/cli/dist/bundle');

/** Which of some heavy CommonJS packages a fresh process loaded while running `main(argv)` from tsc's output. */
function loadedBy(argv: string[]): Promise<Record<string, boolean>> {
  const probe = `
    import { createRequire } from 'node:module';
    import { Writable } from 'node:stream';
    const sink = new Writable({ write(_c, _e, done) { done(); } });
    const { main } = await import('./packages/cli/dist/main.js');
    await main(${JSON.stringify(argv)}, { stdout: sink, stderr: sink, env: {} });
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    const has = (name) => loaded.some((path) => path.includes('/node_modules/' + name + '/'));
    console.log(JSON.stringify({ pino: has('pino'), tsyringe: has('tsyringe'), fastify: has('fastify') }));
    process.exit(0);
  `;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', probe],
      { cwd: ROOT, timeout: 60_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
    );
  });
}

/** The files a bundle module imports statically (not `import()`), transitively, with itself. */
function staticClosure(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(
    /^(?:import|export)\s[^;]*?from\s+"(\.\/[^"]+)"|^import\s+"(\.\/[^"]+)"/gms,
  )) {
    staticClosure(join(dirname(file), (match[1] ?? match[2])!), seen);
  }
  return seen;
}

describe('start-up loads only what a command uses', () => {
  it.each([[['--version']], [['--help']], [['fetch', '--help']], [['serve', '--help']]])(
    '%j loads no library code (no pino, tsyringe, fastify)',
    async (argv) => {
      expect(await loadedBy(argv)).toEqual({ pino: false, tsyringe: false, fastify: false });
    },
    60_000,
  );

  it('a fetch loads the library but not the service (fastify stays unloaded)', async () => {
    // A bad URL: the fetch command runs (and loads what it needs) up to its usage check.
    const loaded = await loadedBy(['fetch', 'https://example.invalid/a', '--expect', 'nonsense']);
    expect(loaded.fastify).toBe(false);
    expect(loaded.pino).toBe(true);
  }, 60_000);

  it("the bundle's entry loads a few KiB before a command runs; the library is in lazily loaded chunks", () => {
    const entry = staticClosure(join(BUNDLE, 'bin.js'));
    const size = (files: Iterable<string>) => [...files].reduce((sum, f) => sum + statSync(f).size, 0);
    const text = [...entry].map((f) => readFileSync(f, 'utf8')).join('\n');
    expect(size(entry)).toBeLessThan(64 * 1024);
    expect(text).not.toMatch(/node_modules\/(got|pino|tsyringe)\//); // esbuild's path comments
    expect(text).toContain('import("./chunk-'); // fetch: a chunk loaded when it runs
    expect(text).toContain('import("../commands/serve.js")'); // serve: tsc's module, never bundled
  });

  it('the installed command runs from the bundle: --version, and a command kept outside it (serve)', async () => {
    const version = await detour(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.toString().trim()).toBe(
      JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8')).version,
    );
    // A usage error thrown by a tsc-compiled command module is still exit 2 with one line.
    const serve = await detour(['serve', '--port', 'abc']);
    expect(serve.code).toBe(2);
    expect(serve.stderr).toBe('detour serve: --port takes 0-65535, got "abc"\n');
  }, 60_000);
});
