/** The custom strategy of examples/custom-strategy.ts passes the conformance suite every built-in passes. */
import { testStrategy } from '@detour/core/testing';
import { type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll } from 'vitest';
import { mirror } from '../examples/custom-strategy.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

// The lab's HTTPS origin mirrors itself: what is checked is the strategy's behaviour, not the mirror.
testStrategy({
  label: 'mirror (examples/custom-strategy.ts)',
  make: () => mirror({ [`localhost:${lab.https.port}`]: `localhost:${lab.https.port}` }),
  lab: () => lab,
});
