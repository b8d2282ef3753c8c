/**
 * Presets: site knowledge as hooks, not strategies. A preset names the hosts it acts on and may
 * rewrite a URL before the first request, refuse it outright (a link past its retention), derive
 * a cache key and the expected size, classify a response (status, headers, first bytes) into a
 * failure class, choose the Referer, and offer one other URL after a failure (a canonical form).
 * The pipeline calls a hook only for URLs whose host the preset handles.
 */
import { Readable } from 'node:stream';
import { onAbort } from './abort.js';
import { DetourError, refusalRecord } from './errors.js';
import type { SecretPathSegments } from './redact.js';
import type { FailureClass, HeaderValue, RefreshUrl } from './types/index.js';

/** What a preset sees of a response before its body is consumed. */
export interface ResponseSample {
  /** The URL after redirects. */
  readonly url: URL;
  readonly status: number;
  readonly headers: Readonly<Record<string, HeaderValue>>;
  /** The first bytes of the body (up to PEEK_BYTES; all of it when shorter). */
  readonly head: Buffer;
}

/** A preset's reading of a response: the failure it means. */
export interface ResponseVerdict {
  failureClass: FailureClass;
  code: string;
  message: string;
  /** The origin's error number and text, carried on the error and the attempt record. */
  retcode?: number;
  retmsg?: string;
}

export interface Preset {
  readonly name: string;
  /** Whether the preset acts on this URL (usually: its host is one the preset names). */
  handles(url: URL): boolean;
  /** The URL to request instead, before the first request (decode an escaping left in, …). May throw a DetourError to refuse the URL without a request. */
  rewriteUrl?(url: URL): URL;
  /** The cache key for this URL (e.g. a content digest instead of a signed URL), or undefined for the default. */
  cacheKey?(url: URL): string | undefined;
  /**
   * Whether a body fetched from `url` may be stored under the key `cacheKey` gave: undefined when
   * it may, else why not (the key names a digest the body does not have). A key anyone can write
   * into a URL must be proved by the body, or one caller's link fills another's entry.
   */
  checkCached?(url: URL, body: Buffer): string | undefined;
  /** The size the body must have, when the URL says it. */
  expectedBytes?(url: URL): number | undefined;
  /** A failure the response means although its status may not say so, or undefined to judge it as usual. */
  classifyResponse?(sample: ResponseSample): ResponseVerdict | undefined;
  /** The Referer to send (or undefined for none), given the one the header profile or caller proposes. */
  referer?(url: URL, proposed: string | undefined): string | undefined;
  /** One other URL worth trying after this failure (a canonical form after a 404), or undefined. */
  alternateUrl?(url: URL, error: DetourError): URL | undefined;
  /**
   * A fresh URL for a link of this preset's hosts after `url-expired` (or before any request, when
   * `expiresAt` says it is past). Wins over the pipeline's `refreshUrl`; a fetch's own wins over it.
   */
  readonly refreshUrl?: RefreshUrl;
  /** When the URL stops working (read from the URL itself, no request), or undefined when it does not say. */
  expiresAt?(url: URL): Date | number | undefined;
  /** Query parameters whose values are secret: every output masks them (as core's own list). */
  readonly secretQueryParams?: readonly string[];
  /** Path segments that are secret (a bot token in the path): every output masks them. */
  readonly secretPathSegments?: SecretPathSegments;
}

/** The refresher for `url`: the first handling preset's `refreshUrl`, else the catch-all. */
export function refresherFor(
  presets: readonly Preset[],
  url: URL,
  fallback: RefreshUrl | undefined,
): RefreshUrl | undefined {
  for (const preset of presetsFor(presets, url)) if (preset.refreshUrl) return preset.refreshUrl;
  return fallback;
}

/** The earliest expiry a handling preset reads from `url` (epoch ms), with that preset's name. */
export function expiryOf(presets: readonly Preset[], url: URL): { at: number; preset: string } | undefined {
  let found: { at: number; preset: string } | undefined;
  for (const preset of presetsFor(presets, url)) {
    const at = preset.expiresAt?.(url);
    const ms = at instanceof Date ? at.getTime() : at;
    if (typeof ms === 'number' && Number.isFinite(ms) && (!found || ms < found.at))
      found = { at: ms, preset: preset.name };
  }
  return found;
}

/** Bytes of body read for `classifyResponse` (an error JSON fits; a 2xx body is handed on intact). */
export const PEEK_BYTES = 512;

/** The presets that act on `url`, in order. */
export function presetsFor(presets: readonly Preset[], url: URL): Preset[] {
  return presets.length === 0 ? [] : presets.filter((p) => p.handles(url));
}

/** What the presets make of a URL before any request: the URL to fetch, its cache key and size. */
export interface PreparedUrl {
  url: URL;
  cacheKey?: string | undefined;
  /** The check of the preset that gave `cacheKey` (see Preset.checkCached). */
  checkCached?: ((body: Buffer) => string | undefined) | undefined;
  expectedBytes?: number | undefined;
}

/** Apply every handling preset's rewrite, then ask for a cache key and expected size. May throw (a refused URL). */
export function prepareUrl(presets: readonly Preset[], input: URL): PreparedUrl {
  let url = input;
  for (const preset of presetsFor(presets, url)) {
    if (!preset.rewriteUrl) continue;
    try {
      url = preset.rewriteUrl(url);
    } catch (error) {
      // A refusal without a request: its one attempt record names the preset.
      if (error instanceof DetourError && error.attempts.length === 0) {
        error.attempts = [refusalRecord(preset.name, error)];
      }
      throw error;
    }
  }
  const handling = presetsFor(presets, url);
  let cacheKey: string | undefined;
  let checkCached: PreparedUrl['checkCached'];
  let expectedBytes: number | undefined;
  for (const preset of handling) {
    if (cacheKey === undefined) {
      cacheKey = preset.cacheKey?.(url);
      const check = preset.checkCached;
      if (cacheKey !== undefined && check) checkCached = (body) => check.call(preset, url, body);
    }
    expectedBytes ??= preset.expectedBytes?.(url);
  }
  return { url, cacheKey, checkCached, expectedBytes };
}

/** The Referer the presets allow for `url` (each handling preset may drop or replace the proposal). */
export function presetReferer(
  presets: readonly Preset[],
  url: URL,
  proposed: string | undefined,
): string | undefined {
  let referer = proposed;
  for (const preset of presetsFor(presets, url)) if (preset.referer) referer = preset.referer(url, referer);
  return referer;
}

/** The first verdict of a handling preset on a response. */
export function classifyResponse(
  presets: readonly Preset[],
  sample: ResponseSample,
): ResponseVerdict | undefined {
  for (const preset of presetsFor(presets, sample.url)) {
    const verdict = preset.classifyResponse?.(sample);
    if (verdict) return verdict;
  }
  return undefined;
}

/** The first alternate URL a handling preset offers after `error`. */
export function alternateUrl(presets: readonly Preset[], url: URL, error: DetourError): URL | undefined {
  for (const preset of presetsFor(presets, url)) {
    const next = preset.alternateUrl?.(url, error);
    if (next) return next;
  }
  return undefined;
}

/**
 * Read up to `limit` bytes of a body, and give back a body that yields them again followed by the
 * rest. Destroying the returned body destroys the original.
 */
export async function peekBody(
  body: Readable,
  limit: number,
  signal: AbortSignal,
): Promise<{ head: Buffer; body: Readable }> {
  signal.throwIfAborted();
  const iterator = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let size = 0;
  let done = false;
  let failure: unknown;
  const stopListening = onAbort(signal, () => body.destroy(signal.reason as Error));
  try {
    while (size < limit) {
      const next = await iterator.next();
      if (next.done) {
        done = true;
        break;
      }
      chunks.push(next.value);
      size += next.value.length;
    }
  } catch (error) {
    failure = error; // replayed to whoever reads the body; the head so far is still judged
  } finally {
    stopListening();
  }
  const head = Buffer.concat(chunks);
  async function* replay(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    if (failure !== undefined) throw failure;
    if (done) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  const replayed = Readable.from(replay(), { objectMode: false });
  replayed.once('close', () => {
    if (!body.destroyed) body.destroy();
  });
  return { head: head.subarray(0, limit), body: replayed };
}
