/**
 * The public entry stays small (issue 24 item 4): at most 60 values, every one also reachable from
 * '@detour/core/internal' as the same object, so our packages and users share one class identity.
 */
import { describe, expect, it } from 'vitest';
import * as publicEntry from '../src/index.js';
import * as internal from '../src/internal.js';

describe('@detour/core', () => {
  it('exports at most 60 values', () => {
    expect(Object.keys(publicEntry).length).toBeLessThanOrEqual(60);
  });

  it('exports what a user builds a pipeline and a plugin with', () => {
    for (const name of [
      'createPipeline',
      'Pipeline',
      'asPlugin',
      'decorate',
      'STRATEGY',
      'TRANSPORT',
      'LAYER',
    ]) {
      expect(publicEntry).toHaveProperty(name);
    }
  });

  it('re-exports the same objects as the internal entry, which holds more', () => {
    const all = new Map(Object.entries(internal));
    for (const [name, value] of Object.entries(publicEntry)) expect(all.get(name)).toBe(value);
    expect(Object.keys(internal).length).toBeGreaterThan(Object.keys(publicEntry).length);
    expect(publicEntry).not.toHaveProperty('strictAttempt');
  });
});
