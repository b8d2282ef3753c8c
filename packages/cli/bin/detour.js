#!/usr/bin/env node
// The installed `detour` command. It exists before the build (pnpm links bins at install time),
// and loads the compiled CLI; run `pnpm build` first.
import('../dist/bin.js').catch((error) => {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/bin.js')) {
    process.stderr.write('detour: the CLI is not built yet; run `npx -y pnpm@10 build` first\n');
    process.exitCode = 1;
    return;
  }
  throw error;
});
