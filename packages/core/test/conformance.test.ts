import { type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll } from 'vitest';
import { direct, directBypass } from '../src/internal.js';
import { testStrategy } from '../src/testing/index.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

testStrategy({ label: 'direct', make: () => direct(), lab: () => lab });
// direct-bypass applies only with a proxy in the way, and must then really go around it.
testStrategy({ label: 'direct-bypass', make: () => directBypass(), lab: () => lab, route: 'proxy' });
