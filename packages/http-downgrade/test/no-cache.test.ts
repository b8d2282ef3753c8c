/**
 * Issue 22 item 2: a body fetched over plain http never fills an entry an https request is served
 * from. The lab's origin breaks TLS and speaks HTTP on the same port; the downgraded answer is
 * delivered (flagged) but not stored, so the next https fetch goes to the network again.
 */
import { createPipeline } from '@detour/core';
import { LAB_PNG, type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpDowngradeStrategy } from '../src/index.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

describe('a downgraded answer is never cached (issue 22 item 2)', () => {
  it('two https fetches of a downgraded host: both go to the network, neither is fromCache', async () => {
    const pipeline = createPipeline({
      allowPrivateNetwork: true,
      ca: lab.ca,
      use: [new HttpDowngradeStrategy({ hosts: ['localhost'] })],
      strategies: ['direct', 'http-downgrade'],
    });
    try {
      const url = `${lab.downgrade.shared.httpsUrl}/image.png`;
      for (let i = 0; i < 2; i++) {
        const result = await pipeline.fetch(url);
        expect(result).toMatchObject({ downgraded: true, fromCache: false, strategy: 'http-downgrade' });
        expect(result.body.equals(LAB_PNG)).toBe(true);
      }
    } finally {
      await pipeline.close();
    }
  });
});
