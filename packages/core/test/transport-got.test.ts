import { Options } from 'got';
import { describe, expect, it } from 'vitest';
import { emptyCacheOptions } from '../src/transport/transport.js';

// D35: got 14 spreads `cacheOptions` into every request's options for Node; a non-empty object
// there sends V8 (Node 20) down a slow path (~45 µs a request). The transport empties it per request.
describe('the transport and got 14', () => {
  it('got still defaults cacheOptions to an object with keys (the reason for the hook)', () => {
    const options = new Options('https://127.0.0.1/file');
    expect(Object.keys(options.cacheOptions).length).toBeGreaterThan(0);
  });

  it('emptyCacheOptions replaces it with an empty object, and got builds its request options without them', () => {
    const options = new Options('https://127.0.0.1/file', { https: { rejectUnauthorized: true } });
    emptyCacheOptions(options as never);
    expect(options.cacheOptions).toEqual({});
    const native = options.createNativeRequestOptions() as Record<string, unknown>;
    for (const key of ['shared', 'cacheHeuristic', 'immutableMinTimeToLive', 'ignoreCargoCult'])
      expect(native).not.toHaveProperty(key);
    expect(native.rejectUnauthorized).toBe(true);
    expect(native.method).toBe('GET');
  });
});
