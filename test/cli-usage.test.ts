import { describe, expect, it } from 'vitest';
import { detour } from './cli-run.js';

describe('detour CLI: bad input exits 2 with one line on stderr', () => {
  it.each([
    [['fetch']],
    [['fetch', 'not a url']],
    [['fetch', 'ftp://127.0.0.1/x']],
    [['fetch', 'https://127.0.0.1/', '--bogus']],
    [['fetch', 'https://127.0.0.1/', '--timeout', 'soon']],
    [['fetch', 'https://127.0.0.1/', '--max-bytes', '-5']],
    [['fetch', 'https://127.0.0.1/', '--attempt-timeout', '0']],
    [['fetch', 'https://127.0.0.1/', '--attempt-timeout', '90000']],
    [['fetch', 'https://127.0.0.1/', '--timeout', '1000', '--attempt-timeout', '2000']],
    [['serve', '--attempt-timeout', '90000']],
    [['fetch', 'https://127.0.0.1/', '--expect', 'movie']],
    [['fetch', 'https://127.0.0.1/', '-H', 'no colon']],
    [['fetch', 'https://127.0.0.1/', '--strategies', 'direct,teleport']],
    [['fetch', 'https://127.0.0.1/', '--proxy', 'ftp://127.0.0.1:21']],
    [['fetch', 'https://127.0.0.1/', '--log-level', 'loud']],
    [['teleport']],
    [[]],
  ])('%j', async (args) => {
    const result = await detour(args);
    expect(result.code).toBe(2);
    expect(result.stdout.toString()).toBe('');
    expect(result.stderr.trim().split('\n').length).toBeGreaterThanOrEqual(1);
    expect(result.stderr.trim().split('\n')[0]).toMatch(/^(detour|usage)/);
  });

  it.each([
    [['fetch', 'https://127.0.0.1/', '--attempt-timeout', '90000']],
    [['serve', '--attempt-timeout', '90000']],
  ])('an --attempt-timeout longer than the total deadline says which to raise: %j', async (args) => {
    const result = await detour(args);
    expect(result.code).toBe(2);
    // The front-end kit's one message (D86) names the flag and the API/Koishi field alike.
    expect(result.stderr).toContain(
      '--attempt-timeout / attemptTimeoutMs 90000 is longer than the default --timeout / timeoutMs 60000: raise --timeout / timeoutMs too',
    );
  });

  it('--help exits 0', async () => {
    const result = await detour(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toContain('fetch');
  });
});
