/**
 * Usage errors name the real problem (issue 23 item 13), through the real binary: a port out of
 * range, -o with -O, a missing URL, an unknown flag (with the closest one), and with --json a
 * JSON document on stdout (exit 2).
 */
import { describe, expect, it } from 'vitest';
import { closestFlag } from '../packages/cli/src/args.js';
import { DOCTOR, FETCH, SERVE } from '../packages/cli/src/definitions.js';
import { detour } from './cli-run.js';

describe('usage messages name the real problem', () => {
  it.each([
    [
      ['fetch', 'https://127.0.0.1:99999/a.png'],
      'port 99999 is out of range (0-65535) in "https://127.0.0.1:99999/a.png"',
    ],
    [['doctor', 'https://localhost:70000/'], 'port 70000 is out of range (0-65535)'],
    [['fetch', 'ftp://127.0.0.1/a'], 'not an http(s) URL (ftp:): "ftp://127.0.0.1/a"'],
    [
      ['fetch', 'https://127.0.0.1/a', '-o', 'a.png', '-O', 'dir'],
      '-o FILE and -O DIR exclude each other: -o writes one URL to FILE, -O DIR writes each URL into DIR',
    ],
    [
      ['fetch', 'https://127.0.0.1/a', 'https://127.0.0.1/b', '-o', 'a.png'],
      '-o names one file, but 2 URLs were given: use -O DIR',
    ],
    [['fetch'], 'fetch needs a URL (see detour fetch --help)'],
    [['fetch', '--json'], 'fetch needs a URL'],
    [['doctor', '--allow-private'], 'doctor needs a URL'],
    [
      ['fetch', 'https://127.0.0.1/a', '--proxyy', 'http://127.0.0.1:1'],
      'unknown flag --proxyy: did you mean --proxy?',
    ],
    [['fetch', 'https://127.0.0.1/a', '--timout', '5'], 'unknown flag --timout: did you mean --timeout?'],
    [
      ['doctor', 'https://127.0.0.1/a', '--insecure', 'x'],
      'unknown flag --insecure: did you mean --insecure-host?',
    ],
    [['serve', '--prot', '0'], 'unknown flag --prot: did you mean --port?'],
    [['fetch', 'https://127.0.0.1/a', '--zzzzzzzz'], 'unknown flag --zzzzzzzz (see detour fetch --help)'],
  ])('%j: exit 2, %s', async (args, message) => {
    const run = await detour(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it.each([
    [['fetch', '--json', '--proxyy', 'x'], 'unknown flag --proxyy: did you mean --proxy?'],
    [['fetch', 'https://127.0.0.1:99999/', '--json'], 'port 99999 is out of range'],
    [['doctor', '--json'], 'doctor needs a URL'],
    [['detect', '--json', '--probe-port'], 'unknown flag --probe-port: did you mean --probe-ports?'],
  ])('with --json, %j is one JSON document on stdout (exit 2)', async (args, message) => {
    const run = await detour(args);
    expect(run.code).toBe(2);
    const out = JSON.parse(run.stdout.toString()) as Record<string, unknown>;
    expect(out).toEqual({
      ok: false,
      error: {
        failureClass: 'blocked',
        code: 'DETOUR_USAGE',
        message: expect.stringContaining(message),
        exitCode: 2,
      },
    });
  });

  it('--json after -- is a positional, not the flag: no JSON', async () => {
    const run = await detour(['fetch', '--', '--json']);
    expect(run.code).toBe(2);
    expect(run.stdout.toString()).toBe('');
  });

  it('closestFlag: near misses, prefixes, one-letter flags only by case, nothing when far', () => {
    expect(closestFlag(FETCH, '--ouput')).toBe('--output');
    expect(closestFlag(FETCH, '--no-proxi')).toBe('--no-proxy');
    expect(closestFlag(FETCH, '--strategy')).toBe('--strategies');
    expect(closestFlag(FETCH, '-I')).toBe('-i');
    expect(closestFlag(FETCH, '-x')).toBeUndefined();
    expect(closestFlag(DOCTOR, '--output')).toBeUndefined();
    expect(closestFlag(SERVE, '--tokn')).toBe('--token');
  });
});
