import type { Route } from '@detour/core';
import { createPipeline, DetourError } from '@detour/core';
import { describe, expect, it } from 'vitest';
import { curl, pinnedRoute, resolvesLocally } from '../src/index.js';

describe('curl under pinResolvedAddress (issue 9)', () => {
  it.each([
    [{ kind: 'socks', url: 'socks5h://u:p@127.0.0.1:1080' }, 'socks5://u:p@127.0.0.1:1080'],
    [{ kind: 'socks', url: 'socks4a://127.0.0.1:1080' }, 'socks4://127.0.0.1:1080'],
    [{ kind: 'socks', url: 'socks://127.0.0.1:1080' }, 'socks5://127.0.0.1:1080'],
    [{ kind: 'socks', url: 'socks5://127.0.0.1:1080' }, 'socks5://127.0.0.1:1080'],
  ] as const)('SOCKS %o becomes a route curl resolves itself (then --resolve pins it)', (route, expected) => {
    const pinned = pinnedRoute(route as Route, true);
    expect(pinned).toEqual({ kind: 'socks', url: expected });
    expect(resolvesLocally(pinned)).toBe(true);
    expect(pinnedRoute(route as Route, false)).toBe(route);
  });

  it('is skipped through an HTTP proxy (curl cannot send it an address for the name)', async () => {
    const pipeline = createPipeline({
      use: [curl()],
      strategies: ['curl'],
      proxy: 'http://127.0.0.1:9',
      pinResolvedAddress: true,
    });
    const error = await pipeline.fetch('https://a.example/x.png').then(
      () => undefined,
      (e: unknown) => e as DetourError,
    );
    await pipeline.close();
    expect(error).toBeInstanceOf(DetourError);
    expect(error?.attempts).toEqual([
      expect.objectContaining({
        strategy: 'curl',
        outcome: 'skipped',
        message: expect.stringMatching(/pinResolvedAddress/),
      }),
    ]);
  });
});
