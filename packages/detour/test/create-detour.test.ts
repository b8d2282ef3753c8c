import { DetourError, DetourUsageError } from '@detour/core';
import {
  interceptLookup,
  LAB_PNG,
  type Lab,
  startLab,
  startTencentTwin,
  TENCENT_TWIN_NAMES,
} from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDetour, DEFAULT_STRATEGIES, pipelineOptions, strategyPlugins } from '../src/index.js';

describe('createDetour: the composition root', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab();
  });
  afterAll(async () => {
    await lab?.close();
  });

  it('registers every built-in strategy in the default order and fetches through the detected plan', async () => {
    const detour = await createDetour({ proxy: false, allowPrivateNetwork: true, ca: lab.ca, env: {} });
    try {
      expect(detour.strategyNames).toEqual([...DEFAULT_STRATEGIES]);
      const result = await detour.fetch(`${lab.https.url}/image.png`, { expect: 'image' });
      expect(result.strategy).toBe('direct');
      expect(result.body.equals(LAB_PNG)).toBe(true);
      // The default cache is in memory: the second fetch is answered from it.
      expect((await detour.fetch(`${lab.https.url}/image.png`)).fromCache).toBe(true);
    } finally {
      await detour.close();
    }
    expect(detour.openSockets()).toBe(0);
  });

  it('adds http-downgrade and placeholder only when asked', async () => {
    const detour = await createDetour({
      proxy: false,
      env: {},
      allowDowngrade: ['localhost'],
      downgradePorts: { 443: 80 },
      placeholder: true,
    });
    try {
      expect(detour.strategyNames).toEqual([...DEFAULT_STRATEGIES, 'http-downgrade', 'placeholder']);
    } finally {
      await detour.close();
    }
  });

  it('uses the explicit proxy for strict requests', async () => {
    const detour = await createDetour({
      proxy: lab.proxies.http.url,
      allowPrivateNetwork: true,
      ca: lab.ca,
      env: {},
      strategies: ['direct'],
    });
    try {
      const result = await detour.fetch(`${lab.https.url}/image.png`);
      expect(result.attempts[0]!.route).toContain(`127.0.0.1:${new URL(lab.proxies.http.url).port}`);
    } finally {
      await detour.close();
    }
  });

  it('keeps the SSRF guard on by default', async () => {
    const detour = await createDetour({ proxy: false, env: {}, logLevel: 'silent' });
    try {
      const error = await detour.fetch(`${lab.https.url}/image.png`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DetourError);
      expect((error as DetourError).failureClass).toBe('blocked');
    } finally {
      await detour.close();
    }
  });

  it('refuses downgrade ports without downgrade hosts, with a typed error', () => {
    expect(() => strategyPlugins({ downgradePorts: { 443: 80 } })).toThrow(DetourUsageError);
  });

  it('lets `pipeline` override any core option', () => {
    const options = pipelineOptions({ timeoutMs: 5_000, pipeline: { timeoutMs: 7_000, cache: false } });
    expect(options.timeoutMs).toBe(7_000);
    expect(options.cache).toBe(false);
  });
});

describe('the qq preset keys its own links, whatever the cache option says', () => {
  it('a partial cache option (only a TTL) still keys two links to one Tencent picture without their rkey', async () => {
    const lab = await startLab();
    const restore = interceptLookup(Object.fromEntries(TENCENT_TWIN_NAMES.map((n) => [n, '127.0.0.1'])));
    const twin = await startTencentTwin({ files: { picture: { bytes: LAB_PNG } } });
    const detour = await createDetour({
      proxy: false,
      env: {},
      allowPrivateNetwork: true, // the twin's real names resolve to 127.0.0.1 here
      ca: lab.ca,
      cache: { ttlMs: 60_000 },
    });
    try {
      const path = `/gchatpic_new/0/0-0-${twin.files.picture!.md5}/0`;
      const first = await detour.fetch(`${twin.origin('gchat.qpic.cn')}${path}?term=2&rkey=ONE`);
      const second = await detour.fetch(`${twin.origin('gchat.qpic.cn')}${path}?term=2&rkey=TWO`);
      expect(first.fromCache).toBe(false);
      expect(second.fromCache).toBe(true);
      expect(second.body.equals(LAB_PNG)).toBe(true);
      expect(twin.hitsFor('picture')).toHaveLength(1);
    } finally {
      await detour.close();
      await twin.close();
      restore();
      await lab.close();
    }
  });
});
