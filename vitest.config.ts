import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const pkg = (name: string) => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      // Before '@detour/core': the first matching alias wins.
      '@detour/core/internal': fileURLToPath(new URL('./packages/core/src/internal.ts', import.meta.url)),
      '@detour/core/testing': fileURLToPath(new URL('./packages/core/src/testing/index.ts', import.meta.url)),
      '@detour/core': pkg('core'),
      '@detour/detect': pkg('detect'),
      '@detour/tls-relaxed': pkg('tls-relaxed'),
      '@detour/http-downgrade': pkg('http-downgrade'),
      '@detour/curl': pkg('curl'),
      '@detour/placeholder': pkg('placeholder'),
      '@detour/qq': pkg('qq'),
      '@detour/discord': pkg('discord'),
      '@detour/telegram': pkg('telegram'),
      '@detour/cli': pkg('cli'),
      'detour/front-end': fileURLToPath(new URL('./packages/detour/src/front-end/index.ts', import.meta.url)),
      detour: pkg('detour'),
      'koishi-plugin-detour': pkg('koishi-plugin-detour'),
      '@detour/serve': pkg('serve'),
      '@detour/lab': fileURLToPath(new URL('./packages/lab/src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The gated-suite reporter lists suites that skipped for want of root or namespaces (and fails CI
    // when they could have run): test/gated-reporter.ts.
    reporters: ['default', './test/gated-reporter.ts'],
  },
});
