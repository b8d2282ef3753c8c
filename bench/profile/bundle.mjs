// Bundle a bench/profile script with esbuild (as figures 1, 4 and 5 run their children: the code
// users run, no tsx __name wrappers), then run it under plain node with the remaining arguments:
//   node bench/profile/bundle.mjs interleave.ts [args...]   (node flags: BUNDLE_NODE_FLAGS="--cpu-prof ...")
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const [script, ...args] = process.argv.slice(2);
const root = fileURLToPath(new URL('../..', import.meta.url));
// One level under bench/, as the scripts are: paths computed from import.meta.url (the lab's) stay right.
const outDir = `${root}bench/.profile-build/`;
mkdirSync(outDir, { recursive: true });
const outfile = `${outDir}profile-${script.replace(/\W/g, '_')}.mjs`;
await esbuild.build({
  entryPoints: [fileURLToPath(new URL(script, import.meta.url))],
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile,
  tsconfig: `${root}bench/tsconfig.json`,
  logLevel: 'error',
  external: ['esbuild'],
  banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
});
const flags = process.env.BUNDLE_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
const run = spawnSync(process.execPath, [...flags, outfile, ...args], { stdio: 'inherit' });
process.exit(run.status ?? 1);
