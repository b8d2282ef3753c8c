/**
 * Issue 23 ("truth at every surface") through the real `detour` binary against the lab: what the
 * CLI says is what happened.
 */
import { type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detour, json } from './cli-run.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

describe('no pointless retries (item 12)', () => {
  it('a body refused for its content is not downloaded again by curl: curl is skipped with its reason', async () => {
    const before = lab.https.routes.hits('/html');
    const run = await detour(
      [
        'fetch',
        `${lab.https.url}/html`,
        '--json',
        '--allow-private',
        '--no-proxy',
        '--no-cache',
        '--expect',
        'image',
        '--strategies',
        'direct,curl',
      ],
      { NODE_EXTRA_CA_CERTS: lab.caPath },
    );
    expect(run.code).toBe(1);
    const out = json(run);
    expect(out.attempts.map((a) => [a.strategy, a.outcome, a.failureClass ?? a.message])).toEqual([
      ['direct', 'failed', 'content-invalid'],
      ['curl', 'skipped', 'cannot rescue content-invalid'],
    ]);
    // One download of the HTML, not two.
    expect(lab.https.routes.hits('/html') - before).toBe(1);
  });
});
