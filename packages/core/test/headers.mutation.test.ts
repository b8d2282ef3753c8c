/**
 * The rules of header validation and header profiles, one case each (issue 29: `pnpm mutate
 * headers` checks these and headers.test.ts kill every mutant of headers.ts): the exact edges of
 * the forbidden characters, what the refusal says (and never says), which values and containers
 * are accepted, and how a profile and its Referer are chosen.
 */
import { describe, expect, it } from 'vitest';
import { DetourUsageError } from '../src/errors.js';
import { checkHeader, checkHeaders, HEADER_PROFILES, refererFor, resolveProfile } from '../src/headers.js';

function refusal(run: () => unknown): DetourUsageError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DetourUsageError);
    expect(error).toMatchObject({ code: 'DETOUR_BAD_HEADER' });
    return error as DetourUsageError;
  }
  throw new Error('not refused');
}

describe('checkHeader: the edges of the forbidden characters', () => {
  it.each([
    [0x00, 'U+0000'],
    [0x08, 'U+0008'],
    [0x0a, 'U+000A'],
    [0x1f, 'U+001F'],
    [0x7f, 'U+007F'],
    [0x100, 'U+0100'],
    [0xfffd, 'U+FFFD'],
  ])('refuses %i, named %s', (code, name) => {
    const error = refusal(() => checkHeader('x-a', `ok${String.fromCharCode(code)}`, 'headers'));
    expect(error.message).toBe(
      `headers: header x-a has a forbidden character (${name}) at position 2 of its value`,
    );
  });

  it.each([0x09, 0x20, 0x7e, 0x80, 0xa0, 0xff])('accepts %i', (code) => {
    expect(() => checkHeader('x-a', `a${String.fromCharCode(code)}b`)).not.toThrow();
  });

  it('names the first forbidden character and where it is', () => {
    const error = refusal(() => checkHeader('x-a', 'abc\u0001\u0002', '-H'));
    expect(error.message).toBe(
      '-H: header x-a has a forbidden character (U+0001) at position 3 of its value',
    );
    expect(refusal(() => checkHeader('x-a', '\u007fz')).message).toContain('at position 0 of');
  });
});

describe('checkHeader: names and values', () => {
  it('a number is a value (sent as its decimal form); nothing else but a string is', () => {
    expect(() => checkHeader('x-n', 5)).not.toThrow();
    for (const value of [true, null, undefined, 5n, ['a'], {}]) {
      const error = refusal(() => checkHeader('x-n', value, '-H'));
      expect(error.message).toBe('-H: header x-n has no string value');
    }
  });

  it('a bad name is quoted, cut to 64 characters, with where it came from (default "headers")', () => {
    const long = `bad name ${'x'.repeat(100)}`;
    expect(refusal(() => checkHeader(long, 'v')).message).toBe(
      `headers: ${JSON.stringify(long.slice(0, 64))} is not a valid header name`,
    );
    expect(refusal(() => checkHeader('a b', 'v', 'profile mine')).message).toBe(
      'profile mine: "a b" is not a valid header name',
    );
  });

  it('a name that is not a string is refused, not thrown on', () => {
    expect(refusal(() => checkHeader(7 as never, 'v')).message).toBe(
      'headers: "7" is not a valid header name',
    );
  });

  it('the name is checked as a whole: one bad character anywhere refuses it', () => {
    for (const name of ['a b', ' ab', 'ab ', 'a:b', 'a\u00e9']) refusal(() => checkHeader(name, 'v'));
    for (const name of ['a', "!#$%&'*+.^_`|~", 'X-Custom-9'])
      expect(() => checkHeader(name, 'v')).not.toThrow();
  });
});

describe('checkHeaders: the container', () => {
  it('nothing to check when there are no headers', () => {
    expect(() => checkHeaders(undefined)).not.toThrow();
    expect(() => checkHeaders(null as never)).not.toThrow();
    expect(() => checkHeaders({})).not.toThrow();
  });

  it.each([
    ['a string', 'x-a: 1'],
    ['a number', 5],
    ['true', true],
  ])('refuses %s as the headers', (_n, value) => {
    const error = refusal(() => checkHeaders(value as never, 'options.headers'));
    expect(error.message).toBe('options.headers must be an object of header names to values');
  });

  it('checks every entry, and says where they came from', () => {
    const error = refusal(() => checkHeaders({ 'x-a': 'ok', 'x-b': 'bad\n' }, 'profile p'));
    expect(error.message).toMatch(/^profile p: header x-b /);
    expect(refusal(() => checkHeaders({ 'x-a': 'bad\n' })).message).toMatch(/^headers: header x-a /);
  });
});

describe('header profiles', () => {
  it('a custom profile wins over a built-in of the same name; built-ins without custom ones', () => {
    const mine = { headers: { 'user-agent': 'mine' } };
    expect(resolveProfile('chrome', { chrome: mine })).toBe(mine);
    expect(resolveProfile('chrome')).toBe(HEADER_PROFILES.chrome);
    expect(resolveProfile('detour', { chrome: mine })).toBe(HEADER_PROFILES.detour);
  });

  it('an unknown name is a usage error listing every known name once', () => {
    let error: unknown;
    try {
      resolveProfile('nope', { mine: { headers: {} }, chrome: { headers: {} } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DetourUsageError);
    expect(error).toMatchObject({
      code: 'DETOUR_BAD_PROFILE',
      message: 'unknown headers profile nope (known: detour, chrome, firefox, mine)',
    });
    expect(() => resolveProfile('nope')).toThrow(
      'unknown headers profile nope (known: detour, chrome, firefox)',
    );
  });

  it('the Referer: none, a fixed one, or the target origin (browser profiles)', () => {
    const url = new URL('https://a.example:8443/p/q.png?x=1#f');
    expect(refererFor(HEADER_PROFILES.detour!, url)).toBeUndefined();
    expect(refererFor({ headers: {}, referer: 'https://r.example/' }, url)).toBe('https://r.example/');
    expect(refererFor({ headers: {}, referer: '' }, url)).toBeUndefined();
    expect(refererFor(HEADER_PROFILES.chrome!, url)).toBe('https://a.example:8443/');
    expect(refererFor(HEADER_PROFILES.firefox!, new URL('http://b.example/x'))).toBe('http://b.example/');
  });
});
