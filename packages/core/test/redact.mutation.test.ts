/**
 * The rules of redaction that redact.test.ts's tables leave implicit, one case each (issue 29:
 * `pnpm mutate redact` checks these and the other redaction tests kill every mutant of
 * redact.ts): how a parameter name is read, what counts as a pair, what a string that is not a
 * URL becomes, and that a name added to SECRET_QUERY_PARAMS at run time is honoured.
 */
import { describe, expect, it } from 'vitest';
import {
  describeRoute,
  redactText,
  redactUrl,
  SECRET_QUERY_PARAMS,
  stripCredentials,
} from '../src/redact.js';

describe('redactUrl: which parameters are secret', () => {
  it.each([
    // A name is read as a server reads it: `+` is a space, escapes decoded, any case.
    ['https://a.example/x?api+key=V&n=1', 'https://a.example/x?api+key=V&n=1'],
    ['https://a.example/x?api%20key=V', 'https://a.example/x?api%20key=V'],
    ['https://a.example/x?%72key=V', 'https://a.example/x?%72key=***'],
    ['https://a.example/x?TOKEN=V', 'https://a.example/x?TOKEN=***'],
    ['https://a.example/x?X-Amz-Signature=V', 'https://a.example/x?X-Amz-Signature=***'],
    // A broken escape is no secret name (none has a `%`): kept as written.
    ['https://a.example/x?rkey%=V&%zz=W', 'https://a.example/x?rkey%=V&%zz=W'],
    // A name without `=` has no value to mask; an empty value is masked all the same.
    ['https://a.example/x?rkey&n=1', 'https://a.example/x?rkey&n=1'],
    ['https://a.example/x?tokens&n=1', 'https://a.example/x?tokens&n=1'],
    ['https://a.example/x?rkey=&n=1', 'https://a.example/x?rkey=***&n=1'],
    // Only the name decides: a secret-looking value or a longer name is not masked.
    ['https://a.example/x?n=token&tokens=1&mykey=2', 'https://a.example/x?n=token&tokens=1&mykey=2'],
    // `=` inside the value: everything after the first `=` is the value.
    ['https://a.example/x?sig=a=b&n=1', 'https://a.example/x?sig=***&n=1'],
    // Separators are kept as they were.
    ['https://a.example/x?a=1;;sig=2&&b=3', 'https://a.example/x?a=1;;sig=***&&b=3'],
    // The fragment: masked only when it holds pairs; a plain anchor is kept.
    ['https://a.example/x#token=V', 'https://a.example/x#token=***'],
    ['https://a.example/x#top', 'https://a.example/x#top'],
    ['https://a.example/x?n=1#sig=V&n=2', 'https://a.example/x?n=1#sig=***&n=2'],
    // Credentials: each part masked only when present.
    ['https://u@a.example/x', 'https://***@a.example/x'],
    ['https://u:p@a.example/x?', 'https://***:***@a.example/x?'],
    ['https://u:p@a.example/x#', 'https://***:***@a.example/x#'],
    ['https://a.example/x?', 'https://a.example/x?'],
  ])('%s → %s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
    expect(redactUrl(new URL(input))).toBe(expected);
  });

  it('a name added to SECRET_QUERY_PARAMS at run time is masked too', () => {
    const names = SECRET_QUERY_PARAMS as Set<string>;
    expect(redactUrl('https://a.example/x?zz=V')).toBe('https://a.example/x?zz=V');
    names.add('zz');
    try {
      expect(redactUrl('https://a.example/x?zz=V')).toBe('https://a.example/x?zz=***');
      expect(redactText('see zz=V')).toBe('see zz=***');
    } finally {
      names.delete('zz');
    }
  });
});

describe('redactUrl: what is not a URL', () => {
  it.each([
    ['', '[invalid url]'],
    ['   ', '[invalid url]'],
    ['not a url', '[invalid url]'],
    ['token=V', 'token=***'],
    ['/relative/x?sig=V', '/relative/x?sig=***'],
    ['user:pass', 'user:pass'],
    ['a@b', 'a@b'],
  ])('%j → %j', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });
});

describe('redactText', () => {
  it.each([
    // Pairs outside URLs: after the start, a space, a quote, a bracket, a comma or a separator.
    ['rkey=V', 'rkey=***'],
    ['a rkey=V b', 'a rkey=*** b'],
    ['"rkey=V"', '"rkey=***"'],
    ["'rkey=V'", "'rkey=***'"],
    ['(rkey=V)', '(rkey=***)'],
    ['x,rkey=V', 'x,rkey=***'],
    ['n=1&rkey=V;sig=W#token=X', 'n=1&rkey=***;sig=***#token=***'],
    ['?rkey=V', '?rkey=***'],
    // Not a pair of its own: a name glued to other text.
    ['xrkey=V', 'xrkey=V'],
    ['a-rkey=V', 'a-rkey=V'],
    // The value ends at a space, a separator, a quote, a bracket or a backtick.
    ['rkey=V W', 'rkey=*** W'],
    ['rkey=V`x', 'rkey=***`x'],
    ['rkey=V<x', 'rkey=***<x'],
    ['rkey=V>x', 'rkey=***>x'],
    ["rkey=V'x", "rkey=***'x"],
    ['rkey=V"x', 'rkey=***"x'],
    ['rkey=V)x', 'rkey=***)x'],
    // Names read like URL parameter names.
    ['api+key=V', 'api+key=V'],
    ['%72key=V', '%72key=***'],
    ['RKEY=V', 'RKEY=***'],
    ['n=rkey', 'n=rkey'],
    // URLs in text: any scheme, up to a space or a quote; the rest of the text stays.
    ['see https://a.example/x?sig=V now', 'see https://a.example/x?sig=*** now'],
    ['see ws://u:p@a.example/ now', 'see ws://***:***@a.example/ now'],
    ['"git+ssh://u:p@a.example/x"', '"git+ssh://***:***@a.example/x"'],
    ['<https://a.example/x?sig=V>', '<https://a.example/x?sig=***>'],
    ['`https://a.example/x?sig=V`', '`https://a.example/x?sig=***`'],
    // A URL that does not parse loses its credentials and its secret pairs all the same.
    ['at http://u:p@[bad/x?sig=V', 'at http://***@[bad/x?sig=***'],
    ['at http://[bad/x?sig=V', 'at http://[bad/x?sig=***'],
    ['at HTTP://u:p@[bad/x', 'at HTTP://***@[bad/x'],
    ['at http://host/@x', 'at http://host/@x'],
    // … and a URL with credentials nested in it, however many.
    ['at http://[bad/x?next=ftp://u:p@h/', 'at http://[bad/x?next=ftp://***@h/'],
    ['at http://u:p@[bad/x?next=ftp://v:q@h/', 'at http://***@[bad/x?next=ftp://***@h/'],
    // Whatever comes before a `://` (the credentials after it are masked all the same).
    ['at http://[bad/x?next=1://v:q@h/', 'at http://[bad/x?next=1://***@h/'],
    ['at http://[bad/x?next=://v:q@h/', 'at http://[bad/x?next=://***@h/'],
    // Nothing to mask.
    ['', ''],
    ['plain words', 'plain words'],
  ])('%j → %j', (input, expected) => {
    expect(redactText(input)).toBe(expected);
  });

  it('masks a value once, whatever quotes it twice', () => {
    expect(redactText('https://a.example/x?rkey=V and rkey=***')).toBe(
      'https://a.example/x?rkey=*** and rkey=***',
    );
  });
});

describe('routes', () => {
  it.each([
    ['http://u:p@127.0.0.1:8080/', 'http://127.0.0.1:8080'],
    ['socks5://u@127.0.0.1:1080', 'socks5://127.0.0.1:1080'],
    ['http://127.0.0.1:8080/path/', 'http://127.0.0.1:8080/path'],
    ['nonsense', '[invalid url]'],
  ])('stripCredentials(%s) → %s', (input, expected) => {
    expect(stripCredentials(input)).toBe(expected);
    expect(stripCredentials(new URL(input === 'nonsense' ? 'http://x' : input))).not.toContain('@');
  });

  it('describeRoute names a proxy without its credentials, and direct as direct', () => {
    expect(describeRoute({ kind: 'http', url: 'http://u:p@127.0.0.1:3128' })).toBe('http://127.0.0.1:3128');
    expect(describeRoute({ kind: 'direct' })).toBe('direct');
  });
});
