/** `detour demo --json`: every scenario, the Tencent ones included, ends as expected. */
import { describe, expect, it } from 'vitest';
import { detour } from './cli-run.js';

describe('detour demo', () => {
  it('runs every scenario on loopback; the QQ scenarios are there and end as expected', {
    timeout: 240_000,
  }, async () => {
    const run = await detour(['demo', '--json'], {}, 230_000);
    const out = JSON.parse(run.stdout.toString()) as {
      ok: boolean;
      scenarios: Array<{ title: string; ok: boolean; expected: string | null; got: string | null }>;
    };
    const qq = out.scenarios.filter((s) => s.title.startsWith('QQ: '));
    expect(qq.length).toBeGreaterThanOrEqual(8);
    expect(qq.filter((s) => !s.ok)).toEqual([]);
    expect(qq.find((s) => s.title.includes('rkey expired —'))).toMatchObject({ expected: null, got: null });
    expect(out.scenarios.filter((s) => !s.ok)).toEqual([]);
    expect(run.code).toBe(0);
  });
});
