import { testStrategy } from '@detour/core/testing';
import { type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll } from 'vitest';
import { tlsRelaxed } from '../src/index.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

testStrategy({ label: 'tls-relaxed', make: () => tlsRelaxed(), lab: () => lab });
testStrategy({
  label: 'tls-relaxed with an insecure host',
  make: () => tlsRelaxed({ insecureHosts: ['localhost'] }),
  lab: () => lab,
  flags: { insecure: true },
});
