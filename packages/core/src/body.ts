import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { sha256Hex } from './digest.js';
import { DetourError } from './errors.js';
import { type MediaFormat, matchesExpect, SNIFF_BYTES, sniffFormat } from './magic.js';
import type { AttemptResponse, ExpectKind } from './types.js';

export interface BodyRules {
  maxBytes: number;
  expect: ExpectKind;
  /** The exact size the body must have (the caller's `expectedBytes`). */
  expectedBytes?: number | undefined;
  /** Told the bytes received so far while the body flows, and once more (`done`) at its end. */
  onBytes?: ((received: number, done: boolean) => void) | undefined;
}

const NOT_A: Record<ExpectKind, string> = {
  image: 'DETOUR_NOT_AN_IMAGE',
  audio: 'DETOUR_NOT_AUDIO',
  video: 'DETOUR_NOT_VIDEO',
  media: 'DETOUR_NOT_MEDIA',
  any: 'DETOUR_CONTENT_INVALID',
};

/** The size the caller announced and the size seen disagree (a stand-in picture, a cut body). */
export function sizeMismatch(seen: number, expected: number, what: string): DetourError {
  return new DetourError(`${what} ${seen} bytes but ${expected} were expected`, {
    failureClass: 'content-invalid',
    code: 'DETOUR_SIZE_MISMATCH',
  });
}

/** The Content-Length a response promises for its (undecoded) body, or null. */
export function declaredLength(response: Pick<AttemptResponse, 'headers' | 'decoded'>): number | null {
  if (response.decoded) return null;
  const raw = response.headers['content-length'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || !/^\d+$/.test(value.trim())) return null;
  return Number(value);
}

/** Check a response before reading its body: a declared length above the limit fails at once. */
export function checkDeclaredLength(response: AttemptResponse, rules: BodyRules): number | null {
  const length = declaredLength(response);
  if (length !== null && length > rules.maxBytes) {
    throw new DetourError(`Content-Length ${length} exceeds the limit of ${rules.maxBytes} bytes`, {
      failureClass: 'too-large',
      code: 'DETOUR_TOO_LARGE',
    });
  }
  if (length !== null && rules.expectedBytes !== undefined && length !== rules.expectedBytes) {
    throw sizeMismatch(length, rules.expectedBytes, 'Content-Length announces');
  }
  return length;
}

/**
 * A pass-through that enforces the body rules while bytes flow: size limit, magic bytes of the
 * expected kind (checked on the first SNIFF_BYTES bytes, held back until then), Content-Length and
 * expected size at the end; it also counts, hashes and sniffs the format.
 */
export class BodyGuard extends Transform {
  bytes = 0;
  /** Made on the first chunk; never when the reader keeps the whole body (`check`, `checkEnd`). */
  #hash: Hash | undefined;
  /** The whole body, when the reader kept it: hashed once, at the end. */
  #whole: Buffer | undefined;
  #direct = false;
  readonly #rules: BodyRules;
  readonly #expectedLength: number | null;
  /** Held-back head while it is checked (expect other than `any`). */
  #head: Buffer | null;
  /** A copy of the first bytes, for `format`. */
  #sniffed: Buffer = Buffer.alloc(0);
  #digest: string | undefined;
  #settle!: (error?: Error) => void;
  /** Resolves once the head of the body passed the checks (or the body ended well); rejects on a failed check. */
  readonly verdict: Promise<void>;

  constructor(rules: BodyRules, expectedLength: number | null) {
    super();
    this.#rules = rules;
    this.#expectedLength = expectedLength;
    this.#head = rules.expect === 'any' ? null : Buffer.alloc(0);
    this.verdict = new Promise<void>((resolve, reject) => {
      this.#settle = (error) => (error ? reject(error) : resolve());
    });
    this.verdict.catch(() => {}); // the stream's own 'error' carries it too
    this.once('error', (error) => this.#settle(error));
  }

  get expectedLength(): number | null {
    return this.#expectedLength;
  }

  /** The format the first bytes show, or null. */
  get format(): MediaFormat | null {
    return sniffFormat(this.#head ?? this.#sniffed);
  }

  get sha256(): string {
    this.#digest ??= this.#whole
      ? sha256Hex(this.#whole)
      : (this.#hash ?? createHash('sha256')).digest('hex');
    return this.#digest;
  }

  /**
   * The rules applied by a reader that keeps the whole body in memory (readBody), without the
   * stream: what to keep of `chunk` (undefined while the head is held back for its check). Throws
   * the rule's DetourError (and settles `verdict` with it). Hashing waits for `checkEnd`.
   */
  check(chunk: Buffer): Buffer | undefined {
    this.#direct = true;
    try {
      return this.#accept(chunk);
    } catch (error) {
      this.#settle(error as Error);
      throw error;
    }
  }

  /**
   * The end of a body read through `check`: the end-of-body checks, then `whole` (everything
   * `check` and `checkEnd` returned, in order) is hashed once. Returns the held head, if any,
   * which belongs at the end of `whole`: pass a function that builds it.
   */
  checkEnd(whole: (tail: Buffer | undefined) => Buffer): Buffer {
    this.#direct = true;
    try {
      const tail = this.#head ? this.#releaseHead() : undefined;
      this.#finishChecks();
      const body = whole(tail);
      this.#whole = body;
      this.#rules.onBytes?.(this.bytes, true);
      this.#settle();
      return body;
    } catch (error) {
      this.#settle(error as Error);
      throw error;
    }
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      callback(null, this.#accept(chunk));
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.#finish();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  /** Count, hash and check one chunk; returns what to pass on (the head is held until it is checked). */
  #accept(chunk: Buffer): Buffer | undefined {
    this.bytes += chunk.length;
    if (this.bytes > this.#rules.maxBytes) {
      throw new DetourError(`body exceeds the limit of ${this.#rules.maxBytes} bytes`, {
        failureClass: 'too-large',
        code: 'DETOUR_TOO_LARGE',
      });
    }
    const expected = this.#rules.expectedBytes;
    if (expected !== undefined && this.bytes > expected)
      throw sizeMismatch(this.bytes, expected, 'body has at least');
    if (!this.#direct) {
      this.#hash ??= createHash('sha256');
      this.#hash.update(chunk);
    }
    this.#rules.onBytes?.(this.bytes, false);
    if (!this.#head) {
      if (this.#sniffed.length < SNIFF_BYTES)
        this.#sniffed = Buffer.concat([this.#sniffed, chunk.subarray(0, SNIFF_BYTES - this.#sniffed.length)]);
      this.#settle();
      return chunk;
    }
    this.#head = Buffer.concat([this.#head, chunk]);
    if (this.#head.length < SNIFF_BYTES) return undefined;
    return this.#releaseHead();
  }

  #finish(): void {
    if (this.#head) this.push(this.#releaseHead());
    this.#finishChecks();
    this.#rules.onBytes?.(this.bytes, true);
    this.#settle();
  }

  /** Content-Length and the expected size, once the whole body was seen. */
  #finishChecks(): void {
    if (this.#expectedLength !== null && this.bytes !== this.#expectedLength) {
      throw new DetourError(`body has ${this.bytes} bytes but Content-Length said ${this.#expectedLength}`, {
        failureClass: 'content-invalid',
        code: 'DETOUR_LENGTH_MISMATCH',
      });
    }
    const expected = this.#rules.expectedBytes;
    if (expected !== undefined && this.bytes !== expected)
      throw sizeMismatch(this.bytes, expected, 'body has');
  }

  #releaseHead(): Buffer {
    const error = this.#checkKind();
    if (error) throw error;
    const head = this.#head!;
    this.#head = null;
    this.#sniffed = head.subarray(0, SNIFF_BYTES);
    this.#settle();
    return head;
  }

  #checkKind(): DetourError | undefined {
    const { expect } = this.#rules;
    if (matchesExpect(this.#head!, expect)) return undefined;
    const preview = this.#head!.subarray(0, 8)
      .toString('latin1')
      .replace(/[^\x20-\x7e]/g, '.');
    const format = sniffFormat(this.#head!);
    const what = expect === 'image' ? 'an image' : expect === 'media' ? 'media' : expect;
    return new DetourError(
      `expected ${what}, got ${format ? format : this.#head!.length ? `bytes "${preview}…"` : 'an empty body'}`,
      {
        failureClass: 'content-invalid',
        code: NOT_A[expect],
      },
    );
  }
}
