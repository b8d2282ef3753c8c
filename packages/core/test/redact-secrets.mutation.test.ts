/**
 * The rules of the secrets a preset declares (`registerSecrets`, issue 26), one case each, for the
 * mutation run of redact.ts (`pnpm mutate redact`, issue 29). Every case builds its own registry
 * (`createRedactor`) inside the test: Stryker switches mutants in-process, so a rule registered
 * before the test (at module load, in a `beforeAll`) would keep its unmutated form. The
 * process-wide registry is the same code; its last block checks that `registerSecrets`,
 * `redactUrl` and `redactText` use it.
 */
import { describe, expect, it } from 'vitest';
import {
  createRedactor,
  redactText,
  redactUrl,
  registerSecrets,
  type SecretDeclaration,
} from '../src/redact.js';

const TOKEN = { pathSegments: /^bot(\d+:[A-Za-z0-9_-]+)$/ };

/** `input` redacted by a fresh registry of `declarations`, as a string and as a URL (both must agree). */
function masked(declarations: SecretDeclaration[], input: string): string {
  const redactor = createRedactor(...declarations);
  const fromString = redactor.url(input);
  expect(createRedactor(...declarations).url(new URL(input))).toBe(fromString);
  return fromString;
}

describe('a secret path pattern', () => {
  it.each<[string, SecretDeclaration[], string, string]>([
    [
      'masks its first capture group and keeps the rest',
      [TOKEN],
      'https://h.example/file/bot123:AB-c_d/photos/x.jpg',
      'https://h.example/file/bot***/photos/x.jpg',
    ],
    [
      'masks the group where it matched, not an earlier copy of its text',
      [{ pathSegments: /^key-([a-z]+)$/ }],
      'https://h.example/key-key/x',
      'https://h.example/key-***/x',
    ],
    [
      'masks the whole segment without a group',
      [{ pathSegments: /^whole-[a-z]+$/ }],
      'https://h.example/whole-abc/x',
      'https://h.example/***/x',
    ],
    [
      'masks the whole segment when its group took no part',
      [{ pathSegments: /^bot(\d+)?$/ }],
      'https://h.example/bot/bot7',
      'https://h.example/***/bot***',
    ],
    [
      'judges a segment decoded',
      [TOKEN],
      'https://h.example/file/bot123%3AAB/x',
      'https://h.example/file/bot***/x',
    ],
    [
      'judges a segment that does not decode as written',
      [{ pathSegments: /^bad(%zz)$/ }],
      'https://h.example/bad%zz/x',
      'https://h.example/bad***/x',
    ],
    [
      'matches a whole segment only, anchored or not',
      [{ pathSegments: /tok(\d+)/ }],
      'https://h.example/tok12/xtok12/tok12x',
      'https://h.example/tok***/xtok12/tok12x',
    ],
    [
      'matches an alternative that spans the whole segment',
      [{ pathSegments: /ab|abc/ }],
      'https://h.example/abc/ab/abcd',
      'https://h.example/***/***/abcd',
    ],
    [
      'keeps a segment with a decoded line break (the `m` flag is dropped)',
      [{ pathSegments: /^s(\d+)$/m }],
      'https://h.example/s1%0Ax/s2',
      'https://h.example/s1%0Ax/s***',
    ],
    [
      'answers every segment alike with a `g` flag',
      [{ pathSegments: /^whole-[a-z]+$/g }],
      'https://h.example/whole-abc/whole-def/whole-ghi',
      'https://h.example/***/***/***',
    ],
    [
      'answers every segment alike with a `y` flag',
      [{ pathSegments: /^y-\d+$/y }],
      'https://h.example/y-1/y-2',
      'https://h.example/***/***',
    ],
    [
      'keeps the `i` flag',
      [{ pathSegments: /^bot(\d+)$/i }],
      'https://h.example/BOT12/x',
      'https://h.example/BOT***/x',
    ],
    [
      'takes a `d` flag of its own',
      [{ pathSegments: /^k-(\d+)$/d }],
      'https://h.example/k-12',
      'https://h.example/k-***',
    ],
    [
      'never judges an empty segment, even when it would match',
      [{ pathSegments: /^[a-z]*$/ }],
      'https://h.example/a//b/',
      'https://h.example/***//***/',
    ],
    [
      'keeps a path where nothing matches byte for byte',
      [TOKEN],
      'https://h.example//a%20b//bot/',
      'https://h.example//a%20b//bot/',
    ],
  ])('%s', (_rule, declarations, input, expected) => {
    expect(masked(declarations, input)).toBe(expected);
  });
});

describe('a secret path function', () => {
  const fn = (segment: string) => (segment === 'fn-secret' ? 'fn-***' : undefined);

  it('decides by itself: its answer replaces the segment, undefined keeps it', () => {
    expect(masked([{ pathSegments: fn }], 'https://h.example/fn-secret/fn-public')).toBe(
      'https://h.example/fn-***/fn-public',
    );
  });

  it('is given the segment decoded', () => {
    expect(masked([{ pathSegments: fn }], 'https://h.example/fn%2Dsecret')).toBe('https://h.example/fn-***');
  });
});

describe('several rules', () => {
  const first = (s: string) => (s.startsWith('s') ? 'first' : undefined);
  const second = (s: string) => (s.startsWith('s') || s.startsWith('t') ? 'second' : undefined);

  it('the first rule that answers wins; a later one still answers what the first leaves', () => {
    expect(masked([{ pathSegments: first }, { pathSegments: second }], 'https://h.example/s/t/u')).toBe(
      'https://h.example/first/second/u',
    );
  });

  it('registered again, a rule keeps its place (idempotent)', () => {
    const declarations = [{ pathSegments: first }, { pathSegments: second }, { pathSegments: first }];
    expect(masked(declarations, 'https://h.example/s/t')).toBe('https://h.example/first/second');
  });

  it('two patterns are two rules, also when only their flags differ', () => {
    const declarations = [
      { pathSegments: /^a-(\d+)$/ },
      { pathSegments: /^b-(\d+)$/ },
      { pathSegments: /^b-(\d+)$/i },
    ];
    expect(masked(declarations, 'https://h.example/a-1/b-2/B-3')).toBe('https://h.example/a-***/b-***/B-***');
  });

  it('masks the path, the query and the credentials of one URL together', () => {
    expect(
      masked([TOKEN, { queryParams: ['X-Custom-Sig'] }], 'https://u:p@h.example/bot1:A/x?x-custom-sig=S&n=1'),
    ).toBe('https://***:***@h.example/bot***/x?x-custom-sig=***&n=1');
  });
});

describe('secret query names', () => {
  it('a declared name is masked in any case, in URLs and in free text', () => {
    const redactor = createRedactor({ queryParams: ['X-Custom-Sig'] });
    expect(redactor.url('https://h.example/f?X-CUSTOM-SIG=v&x-custom-sig=w&n=1')).toBe(
      'https://h.example/f?X-CUSTOM-SIG=***&x-custom-sig=***&n=1',
    );
    expect(redactor.text('retry with x-custom-sig=abc please')).toBe('retry with x-custom-sig=*** please');
  });

  it("a declared name with none of the built-in names' substrings is masked too (no shortcut skips it)", () => {
    expect(createRedactor({ queryParams: ['hm'] }).url('https://h.example/f?hm=v&n=1')).toBe(
      'https://h.example/f?hm=***&n=1',
    );
  });

  it('a declaration without path segments (or empty) declares no path rule', () => {
    const redactor = createRedactor({ queryParams: ['hm'] }, {});
    expect(redactor.url('https://h.example/bot1:A/hm')).toBe('https://h.example/bot1:A/hm');
    expect(redactor.text('bot1:A/hm and hm')).toBe('bot1:A/hm and hm');
  });

  it('a fresh registry starts with the built-in names only', () => {
    const redactor = createRedactor();
    expect(redactor.url('https://h.example/f?rkey=v&hm=w')).toBe('https://h.example/f?rkey=***&hm=w');
  });
});

describe('secret path segments in free text', () => {
  it.each([
    ['could not open bot123:AB/photos/x.jpg (404)', 'could not open bot***/photos/x.jpg (404)'],
    ['"bot123:AB" and (bot4:C)', '"bot***" and (bot***)'],
    ['see https://h.example/file/bot123:AB/x?rkey=V now', 'see https://h.example/file/bot***/x?rkey=*** now'],
    ['nothing secret here: bot/abc, xbot1:A', 'nothing secret here: bot/abc, xbot1:A'],
  ])('%j → %j', (input, expected) => {
    expect(createRedactor(TOKEN).text(input)).toBe(expected);
  });

  it('a function rule judges each word of the text', () => {
    const redactor = createRedactor({ pathSegments: (s) => (s === 'fn-secret' ? 'fn-***' : undefined) });
    expect(redactor.text('path fn-secret and fn-public')).toBe('path fn-*** and fn-public');
  });

  it('a string that is not a URL is masked as text, path rules included', () => {
    expect(createRedactor(TOKEN).url('file/bot123:AB/x.jpg')).toBe('file/bot***/x.jpg');
  });
});

describe('the process-wide registry', () => {
  it('registerSecrets declares for redactUrl and redactText; a fresh registry does not see it', () => {
    // Names only this test uses: the process-wide registry has no way back (tests share it).
    registerSecrets({ queryParams: ['w29-sig'], pathSegments: /^w29-(\d+)$/ });
    expect(redactUrl('https://h.example/w29-123/x?w29-sig=S')).toBe(
      'https://h.example/w29-***/x?w29-sig=***',
    );
    expect(redactText('at w29-123/x with w29-sig=S')).toBe('at w29-***/x with w29-sig=***');
    expect(createRedactor().url('https://h.example/w29-123/x?w29-sig=S')).toBe(
      'https://h.example/w29-123/x?w29-sig=S',
    );
  });

  it("a fresh registry's declarations stay out of the process-wide one", () => {
    createRedactor({ queryParams: ['w29-own'], pathSegments: /^w29own-(\d+)$/ });
    expect(redactUrl('https://h.example/w29own-1?w29-own=S')).toBe('https://h.example/w29own-1?w29-own=S');
  });
});
