import { testStrategy } from '@detour/core/testing';
import { type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll } from 'vitest';
import { placeholder } from '../src/index.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

// A last resort applies only after a failure, and answers without the network (degraded).
testStrategy({
  label: 'placeholder',
  make: () => placeholder(),
  lab: () => lab,
  failures: [{ strategy: 'direct', route: 'direct', outcome: 'failed', failureClass: 'timeout', ms: 1 }],
  flags: { degraded: true },
});
