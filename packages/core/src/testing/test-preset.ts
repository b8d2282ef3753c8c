/**
 * `testPreset()`: the contract every preset keeps, checked without a network (a preset's hooks are
 * pure; its behaviour against a server belongs in the preset's own twin tests):
 * - a well-formed name; `handles()` true for the URLs given, false for the others, never throwing;
 * - on a handled URL each hook answers its type (a rewrite may refuse only with a DetourError);
 * - the pairs given share a cache key (as `prepareUrl` computes it);
 * - the secrets given appear in no redacted URL, no redacted text and no cache key;
 * - a plain 200 image response is no failure to it.
 */
import { describe, expect, it } from 'vitest';
import { DetourError } from '../errors.js';
import { type Preset, prepareUrl } from '../preset.js';
import { redactText, redactUrl, registerSecrets } from '../redact.js';

export interface TestPresetOptions {
  /** A fresh preset. */
  preset: () => Preset;
  /** URLs the preset acts on (at least one). */
  handles: string[];
  /** URLs it must leave alone. */
  ignores?: string[];
  /** Groups of URLs that must share one cache key. */
  sameCacheKey?: string[][];
  /** `[url, secret]`: the secret must not survive redaction of the URL (or of text quoting it). */
  secrets?: Array<[string, string]>;
  label?: string;
}

const NAME = /^[a-z][a-z0-9-]*$/;
const ODD = ['http://[::1]/', 'https://a/', 'https://x.test/%ZZ?%%=', 'https://x.test/?a=1&a=2#f=3'];

/** Register the preset checks in the current vitest file. */
export function testPreset(options: TestPresetOptions): void {
  const make = () => {
    const preset = options.preset();
    registerSecrets({ queryParams: preset.secretQueryParams, pathSegments: preset.secretPathSegments });
    return preset;
  };
  describe(`preset conformance: ${options.label ?? 'preset'}`, () => {
    it('has a well-formed name and a handles() that never throws', () => {
      const preset = make();
      expect(preset.name).toMatch(NAME);
      expect(options.handles.length).toBeGreaterThan(0);
      for (const url of options.handles) expect(preset.handles(new URL(url)), url).toBe(true);
      for (const url of options.ignores ?? []) expect(preset.handles(new URL(url)), url).toBe(false);
      for (const url of ODD) expect(typeof preset.handles(new URL(url))).toBe('boolean');
    });

    it('answers each hook with its type on the URLs it handles', () => {
      const preset = make();
      for (const raw of options.handles) checkHooks(preset, new URL(raw));
      if (preset.refreshUrl !== undefined) expect(typeof preset.refreshUrl).toBe('function');
    });

    it('gives one cache key to the links of one file', () => {
      const preset = make();
      for (const group of options.sameCacheKey ?? []) {
        const keys = group.map((url) => prepareUrl([preset], new URL(url)).cacheKey);
        expect(keys[0], group[0]).toBeTypeOf('string');
        for (const key of keys) expect(key).toBe(keys[0]);
      }
    });

    it('keeps its secrets out of redacted URLs, text and cache keys', () => {
      const preset = make();
      for (const [url, secret] of options.secrets ?? []) {
        expect(url).toContain(secret);
        expect(redactUrl(url)).not.toContain(secret);
        expect(redactText(`failed: ${url} (HTTP 404)`)).not.toContain(secret);
        const key = preset.handles(new URL(url)) ? prepareUrl([preset], new URL(url)).cacheKey : undefined;
        if (key !== undefined) expect(key).not.toContain(secret);
      }
    });

    it('does not call a plain 200 image a failure', () => {
      const preset = make();
      const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      for (const raw of options.handles) {
        const sample = {
          url: new URL(raw),
          status: 200,
          headers: { 'content-type': 'image/png' },
          head: png,
        };
        expect(preset.classifyResponse?.(sample)).toBeUndefined();
      }
    });
  });
}

function checkHooks(preset: Preset, url: URL): void {
  try {
    expect(preset.rewriteUrl?.(url) ?? url).toBeInstanceOf(URL);
  } catch (error) {
    expect(error, `rewriteUrl(${redactUrl(url)}) may refuse only with a DetourError`).toBeInstanceOf(
      DetourError,
    );
  }
  expect(['string', 'undefined']).toContain(typeof preset.cacheKey?.(url));
  const bytes = preset.expectedBytes?.(url);
  if (bytes !== undefined) expect(Number.isSafeInteger(bytes) && bytes >= 0).toBe(true);
  const expiry = preset.expiresAt?.(url);
  if (expiry !== undefined) expect(expiry instanceof Date || typeof expiry === 'number').toBe(true);
  expect(['string', 'undefined']).toContain(typeof preset.referer?.(url, undefined));
}
