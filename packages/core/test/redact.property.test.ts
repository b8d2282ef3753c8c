/**
 * Property tests (issue 9, item 10): header validation and redaction never leak a secret, and the
 * header check refuses exactly the characters it documents.
 */
import { describe, expect, it } from 'vitest';
import {
  checkHeader,
  DetourUsageError,
  redactText,
  redactUrl,
  SECRET_QUERY_PARAMS,
} from '../src/internal.js';
import { fc, fuzzRuns, fuzzTimeout, settings } from './helpers/fuzz.js';

const runs = fuzzRuns(300);
const timeout = fuzzTimeout(runs, 2);

/** Secrets use an alphabet the rest of a generated URL never uses, so "not in the output" is exact. */
const secret = fc.stringMatching(/^[A-Z]{8,16}$/).map((s) => `Z${s}`);
/** Non-secret text: lower case and digits only. */
const plain = fc.stringMatching(/^[a-z0-9]{1,8}$/);
const secretNames = [...SECRET_QUERY_PARAMS];
/** A secret parameter name as a client might write it: any case, maybe one letter percent-encoded. */
const secretName = fc
  .tuple(fc.constantFrom(...secretNames), fc.array(fc.boolean(), { maxLength: 24 }), fc.nat(40))
  .map(([name, upper, encodeAt]) => {
    const cased = [...name].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join('');
    const at = encodeAt % cased.length;
    return /[a-z]/i.test(cased[at]!) && encodeAt % 3 === 0
      ? `${cased.slice(0, at)}%${cased.charCodeAt(at).toString(16)}${cased.slice(at + 1)}`
      : cased;
  })
  // A name whose letters are all upper case would use the secret alphabet: keep one lower.
  .map((name) => (/[a-z]/.test(name) ? name : `${name[0]!.toLowerCase()}${name.slice(1)}`));

const param = fc.oneof(
  fc
    .tuple(plain, plain)
    .map(([k, v]) => ({ text: `n_${k}=${v}`, secret: undefined as string | undefined, keep: `n_${k}=${v}` })),
  fc.tuple(secretName, secret).map(([k, v]) => ({ text: `${k}=${v}`, secret: v, keep: undefined })),
);

const secretUrl = fc
  .record({
    scheme: fc.constantFrom('http', 'https'),
    user: fc.option(secret, { nil: undefined }),
    pass: fc.option(secret, { nil: undefined }),
    host: fc.constantFrom('multimedia.nt.qq.com.cn', 'a.example', '127.0.0.1', '[::1]'),
    path: plain,
    query: fc.array(fc.tuple(param, fc.constantFrom('&', ';')), { maxLength: 6 }),
    fragment: fc.array(param, { maxLength: 3 }),
  })
  .map((u) => {
    const auth = u.user || u.pass ? `${u.user ?? ''}${u.pass ? `:${u.pass}` : ''}@` : '';
    const query = u.query.map(([p, sep], i) => `${i ? sep : ''}${p.text}`).join('');
    const fragment = u.fragment.map((p) => p.text).join('&');
    const url = `${u.scheme}://${auth}${u.host}/${u.path}${query ? `?${query}` : ''}${fragment ? `#${fragment}` : ''}`;
    const params = [...u.query.map(([p]) => p), ...u.fragment];
    return {
      url,
      secrets: [u.user, u.pass, ...params.map((p) => p.secret)].filter((s): s is string => !!s),
      kept: params.flatMap((p) => (p.keep ? [p.keep] : [])),
    };
  });

describe('redaction (fast-check)', () => {
  it(
    'redactUrl never prints a credential or a secret parameter value, and keeps the other parameters',
    () => {
      fc.assert(
        fc.property(secretUrl, ({ url, secrets, kept }) => {
          const out = redactUrl(url);
          for (const s of secrets) expect(out).not.toContain(s);
          for (const k of kept) expect(out).toContain(k);
        }),
        settings(runs),
      );
    },
    timeout,
  );

  it(
    'redactText masks every URL quoted in a message (also broken ones) and secret pairs outside URLs',
    () => {
      fc.assert(
        fc.property(secretUrl, plain, secretName, secret, fc.boolean(), (u, word, name, value, broken) => {
          const quoted = broken ? u.url.replace('://', '://[') : u.url; // an unparsable URL echoed back
          const text = `detour: ${word} "${quoted}" (${name}=${value}, x=${word})`;
          const out = redactText(text);
          for (const s of [...u.secrets, value]) expect(out).not.toContain(s);
          expect(out).toContain(`x=${word}`);
        }),
        settings(runs),
      );
    },
    timeout,
  );
});

/** What the header check documents it refuses: C0 controls but tab, DEL, anything above U+00FF. */
const forbidden = (value: string) => /[\u0000-\u0008\u000a-\u001f\u007f]|[^\u0000-\u00ff]/u.test(value);

describe('header validation (fast-check)', () => {
  it(
    'refuses exactly the forbidden characters, and the message never carries the value',
    () => {
      fc.assert(
        fc.property(
          fc.string({ unit: 'binary', maxLength: 40 }),
          fc.string({ unit: 'grapheme-ascii', maxLength: 8 }),
          (tail, head) => {
            const value = `${head}ZSECRETVALUE${tail}`;
            let error: unknown;
            try {
              checkHeader('authorization', value, 'headers');
            } catch (e) {
              error = e;
            }
            if (!forbidden(value)) return error === undefined;
            return (
              error instanceof DetourUsageError &&
              error.code === 'DETOUR_BAD_HEADER' &&
              !error.message.includes('ZSECRETVALUE')
            );
          },
        ),
        settings(runs),
      );
    },
    timeout,
  );

  it(
    'accepts exactly the RFC 9110 token names',
    () => {
      const token = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
      fc.assert(
        fc.property(fc.string({ unit: 'binary-ascii', maxLength: 12 }), (name) => {
          let ok = true;
          try {
            checkHeader(name, 'v');
          } catch (e) {
            ok = !(e instanceof DetourUsageError && e.code === 'DETOUR_BAD_HEADER');
            if (ok) throw e;
          }
          return ok === token.test(name);
        }),
        settings(runs),
      );
    },
    timeout,
  );
});
