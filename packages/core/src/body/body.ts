import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { sha256Hex } from '../digest.js';
import { DetourError } from '../errors.js';
import { type MediaFormat, matchesExpect, SNIFF_BYTES, sniffFormat } from '../magic.js';
import type { AttemptResponse, ExpectKind } from '../types/index.js';

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
 * The body rules, chunk by chunk, without a stream: size limit, magic bytes of the expected kind
 * (checked on the first SNIFF_BYTES bytes, held back until then), Content-Length and expected size
 * at the end; it also counts, hashes and sniffs the format. A reader that keeps the whole body in
 * memory (readBody) calls `check` and `checkEnd`; `BodyGuard` is the same rules as a stream.
 */
export class BodyCheck {
  bytes = 0;
  /** Made on the first chunk by a streaming reader; never when the reader keeps the whole body. */
  #hash: Hash | undefined;
  /** The whole body, when the reader kept it: hashed once, at the end. */
  #whole: Buffer | undefined;
  readonly #rules: BodyRules;
  readonly #expectedLength: number | null;
  /** Held-back head while it is checked (expect other than `any`). */
  #head: Buffer | null;
  /** A copy of the first bytes, for `format`. */
  #sniffed: Buffer | undefined;
  #digest: string | undefined;
  /** Told when the head passed the checks or the body ended well (`BodyGuard#verdict`). */
  onPassed: (() => void) | undefined;

  constructor(rules: BodyRules, expectedLength: number | null) {
    this.#rules = rules;
    this.#expectedLength = expectedLength;
    this.#head = rules.expect === 'any' ? null : Buffer.alloc(0);
  }

  get expectedLength(): number | null {
    return this.#expectedLength;
  }

  /** The format the first bytes show, or null. */
  get format(): MediaFormat | null {
    return sniffFormat(this.#head ?? this.#sniffed ?? this.#whole ?? EMPTY);
  }

  get sha256(): string {
    this.#digest ??= this.#whole
      ? sha256Hex(this.#whole)
      : (this.#hash ?? createHash('sha256')).digest('hex');
    return this.#digest;
  }

  /**
   * What to keep of `chunk` (undefined while the head is held back for its check), for a reader
   * that keeps the whole body in memory. Throws the rule's DetourError. Hashing waits for `checkEnd`.
   */
  check(chunk: Buffer): Buffer | undefined {
    return this.accept(chunk, false);
  }

  /**
   * The end of a body read through `check`: the end-of-body checks, then `whole` (everything
   * `check` and `checkEnd` returned, in order) is hashed once. Returns the held head, if any,
   * which belongs at the end of `whole`: pass a function that builds it.
   */
  checkEnd(whole: (tail: Buffer | undefined) => Buffer): Buffer {
    const tail = this.finish();
    const body = whole(tail);
    this.#whole = body;
    return body;
  }

  /** Count (and, for a streaming reader, hash) and check one chunk; returns what to pass on. */
  accept(chunk: Buffer, hash: boolean): Buffer | undefined {
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
    if (hash) {
      this.#hash ??= createHash('sha256');
      this.#hash.update(chunk);
    }
    this.#rules.onBytes?.(this.bytes, false);
    if (!this.#head) {
      // A reader that keeps the whole body sniffs it at the end; a stream keeps its first bytes.
      const sniffed = this.#sniffed ?? EMPTY;
      if (hash && sniffed.length < SNIFF_BYTES)
        this.#sniffed = Buffer.concat([sniffed, chunk.subarray(0, SNIFF_BYTES - sniffed.length)]);
      this.onPassed?.();
      return chunk;
    }
    this.#head = Buffer.concat([this.#head, chunk]);
    if (this.#head.length < SNIFF_BYTES) return undefined;
    return this.#releaseHead();
  }

  /** The end of the body: the held head, if any, to pass on; then the end-of-body checks. */
  finish(): Buffer | undefined {
    const tail = this.#head ? this.#releaseHead() : undefined;
    this.#finishChecks();
    this.#rules.onBytes?.(this.bytes, true);
    this.onPassed?.();
    return tail;
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
    this.onPassed?.();
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

const EMPTY = Buffer.alloc(0);

/**
 * The body rules as a pass-through stream (a file, a stream to the caller): the chunks are hashed
 * as they pass. `verdict` settles once the head of the body passed the checks (or the body ended
 * well), and rejects on a failed check.
 */
export class BodyGuard extends Transform {
  readonly check: BodyCheck;
  /** Resolves once the head of the body passed the checks (or the body ended well); rejects on a failed check. */
  readonly verdict: Promise<void>;

  constructor(rules: BodyRules | BodyCheck, expectedLength: number | null = null) {
    super();
    this.check = rules instanceof BodyCheck ? rules : new BodyCheck(rules, expectedLength);
    let settle!: (error?: Error) => void;
    this.verdict = new Promise<void>((resolve, reject) => {
      settle = (error) => (error ? reject(error) : resolve());
    });
    this.verdict.catch(() => {}); // the stream's own 'error' carries it too
    this.check.onPassed = () => settle();
    this.once('error', (error) => settle(error));
  }

  get bytes(): number {
    return this.check.bytes;
  }

  get expectedLength(): number | null {
    return this.check.expectedLength;
  }

  get format(): MediaFormat | null {
    return this.check.format;
  }

  get sha256(): string {
    return this.check.sha256;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      callback(null, this.check.accept(chunk, true));
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      const tail = this.check.finish();
      if (tail) this.push(tail);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }
}
