// Vitest for `pnpm mutate` (scripts/mutate.mjs): the root config, with test files sharing one module
// graph (Stryker switches mutants at run time, so nothing needs re-importing between runs).
import { defineConfig, mergeConfig } from 'vitest/config';
import root from './vitest.config.js';

export default mergeConfig(root, defineConfig({ test: { isolate: false } }));
