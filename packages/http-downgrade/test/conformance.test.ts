import { testStrategy } from '@detour/core/testing';
import { type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll } from 'vitest';
import { httpDowngrade } from '../src/index.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

// https://localhost:<https port>/… is asked for; the lab's plain HTTP origin answers it.
testStrategy({
  label: 'http-downgrade',
  make: () =>
    httpDowngrade({ hosts: ['localhost'], ports: { [`localhost:${lab.https.port}`]: lab.http.port } }),
  lab: () => lab,
  flags: { downgraded: true },
});
