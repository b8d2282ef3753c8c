import { testStrategy } from '@detour/core/testing';
import { type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll } from 'vitest';
import { type CurlStrategy, curl } from '../src/index.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

testStrategy({
  label: 'curl',
  make: () => curl(),
  lab: () => lab,
  children: (strategy) => (strategy as CurlStrategy).pids,
});

// curl is not the pipeline's transport: its `insecure` reaches the pipeline through `reportHop`
// (the suite's "cannot under-report" check strips the flag from its answer).
testStrategy({
  label: 'curl with an insecure host',
  make: () => curl({ insecureHosts: ['localhost'] }),
  lab: () => lab,
  flags: { insecure: true },
  children: (strategy) => (strategy as CurlStrategy).pids,
});
