import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Which heavy dependencies a fresh process has loaded after `script` (ESM, core's sources through
 * tsx). `cacache` and `socks` are CommonJS, so a load shows in `require.cache` even from ESM.
 */
function loadedAfter(script: string): Promise<{ cacache: boolean; socks: boolean }> {
  const probe = `
    import { createRequire } from 'node:module';
    import * as core from './packages/core/src/internal.ts';
    ${script}
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    const has = (name) => loaded.some((path) => path.includes('/node_modules/' + name + '/'));
    console.log(JSON.stringify({ cacache: has('cacache'), socks: has('socks') }));
    process.exit(0);
  `;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', probe],
      { cwd: ROOT, timeout: 60_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
    );
  });
}

describe('what a process loads (issue 13 item 7: only what a fetch needs)', () => {
  it('a default pipeline loads neither cacache (disk tier) nor socks (SOCKS routes)', async () => {
    const loaded = await loadedAfter(`
      const pipeline = core.createPipeline({ allowPrivateNetwork: true });
      pipeline.planFor('https://example.com/a.png');
      await pipeline.close();
    `);
    expect(loaded).toEqual({ cacache: false, socks: false });
  }, 60_000);

  it('the disk tier loads cacache on its first use; a SOCKS route loads socks on its first use', async () => {
    const loaded = await loadedAfter(`
      const { mkdtempSync, rmSync } = await import('node:fs');
      const dir = mkdtempSync('/tmp/detour-lazy-');
      await new core.DiskCacheStore(dir).get('nothing');
      await new core.AgentPool().prepare({ kind: 'socks', url: 'socks5://127.0.0.1:1080' });
      rmSync(dir, { recursive: true, force: true });
    `);
    expect(loaded).toEqual({ cacache: true, socks: true });
  }, 60_000);
});
