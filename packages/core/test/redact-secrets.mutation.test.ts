/**
 * The rules of the secrets a preset declares (`registerSecrets`, issue 26), one case each, for the
 * mutation run of redact.ts (`pnpm mutate redact`). The registry is process-wide: this file has a
 * module of its own (vitest isolates files), so what it registers never leaks into other tests.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { redactText, redactUrl, registerSecrets } from '../src/redact.js';

beforeAll(() => {
  registerSecrets({ pathSegments: /^bot(\d+:[A-Za-z0-9_-]+)$/ }); // a capture group: only it is masked
  registerSecrets({ pathSegments: /^whole-[a-z]+$/g }); // no group: the whole segment; g is dropped
  registerSecrets({ pathSegments: (segment) => (segment === 'fn-secret' ? 'fn-***' : undefined) });
  registerSecrets({ queryParams: ['X-Custom-Sig'] });
  registerSecrets({ pathSegments: /^bot(\d+:[A-Za-z0-9_-]+)$/ }); // again: idempotent
});

describe('secret path segments', () => {
  it.each([
    // The capture group is masked, the rest of the segment and the path kept.
    ['https://api.example/file/bot123:AB-c_d/photos/x.jpg', 'https://api.example/file/bot***/photos/x.jpg'],
    // Percent-escaped segments are decoded before they are judged.
    ['https://api.example/file/bot123%3AAB/x', 'https://api.example/file/bot***/x'],
    // Only a whole segment counts: a match inside a longer one is not a secret segment.
    ['https://api.example/xbot123:AB/x', 'https://api.example/xbot123:AB/x'],
    ['https://api.example/bot123:AB-extra%20/x', 'https://api.example/bot123:AB-extra%20/x'],
    // Without a group the whole segment is masked; a `g` flag does not make the second use fail.
    ['https://api.example/whole-abc/whole-def', 'https://api.example/***/***'],
    // A function decides by itself.
    ['https://api.example/fn-secret/fn-public', 'https://api.example/fn-***/fn-public'],
    // Empty segments (the leading slash, a double slash) stay empty.
    ['https://api.example//a//', 'https://api.example//a//'],
  ])('%s → %s', (input, masked) => {
    expect(redactUrl(input)).toBe(masked);
    expect(redactUrl(new URL(input))).toBe(masked);
  });

  it('masks a secret segment quoted outside a URL, in free text', () => {
    expect(redactText('could not open bot123:AB/photos/x.jpg (404)')).toBe(
      'could not open bot***/photos/x.jpg (404)',
    );
    expect(redactText('path whole-abc and fn-secret')).toBe('path *** and fn-***');
    expect(redactText('nothing secret here: bot/abc')).toBe('nothing secret here: bot/abc');
  });

  it('masks the path, the query and the credentials of one URL together', () => {
    expect(redactUrl('https://u:p@api.example/bot1:A/x?x-custom-sig=S&n=1')).toBe(
      'https://***:***@api.example/bot***/x?x-custom-sig=***&n=1',
    );
  });
});

describe('secret query names', () => {
  it('a declared name is masked in any case, in URLs and in free text', () => {
    expect(redactUrl('https://a.example/f?X-CUSTOM-SIG=v&n=1')).toBe(
      'https://a.example/f?X-CUSTOM-SIG=***&n=1',
    );
    expect(redactText('retry with x-custom-sig=abc please')).toBe('retry with x-custom-sig=*** please');
  });
});
