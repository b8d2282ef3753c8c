import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { DetourError } from './errors.js';
import { SNIFF_BYTES, sniffImage } from './magic.js';
import type { AttemptResponse, ExpectKind } from './types.js';

export interface BodyRules {
  maxBytes: number;
  expect: ExpectKind;
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
  return length;
}

/**
 * A pass-through that enforces the body rules while bytes flow: size limit, image magic bytes
 * (checked on the first 16 bytes), Content-Length match at the end; it also counts and hashes.
 */
export class BodyGuard extends Transform {
  bytes = 0;
  readonly #hash: Hash = createHash('sha256');
  readonly #rules: BodyRules;
  readonly #expectedLength: number | null;
  #head: Buffer | null;
  #digest: string | undefined;
  #settle!: (error?: Error) => void;
  /** Resolves once the head of the body passed the checks (or the body ended well); rejects on a failed check. */
  readonly verdict: Promise<void>;

  constructor(rules: BodyRules, expectedLength: number | null) {
    super();
    this.#rules = rules;
    this.#expectedLength = expectedLength;
    this.#head = rules.expect === 'image' ? Buffer.alloc(0) : null;
    this.verdict = new Promise<void>((resolve, reject) => {
      this.#settle = (error) => (error ? reject(error) : resolve());
    });
    this.verdict.catch(() => {}); // the stream's own 'error' carries it too
    this.once('error', (error) => this.#settle(error));
  }

  get expectedLength(): number | null {
    return this.#expectedLength;
  }

  get sha256(): string {
    this.#digest ??= this.#hash.digest('hex');
    return this.#digest;
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
    this.#hash.update(chunk);
    if (!this.#head) {
      this.#settle();
      return chunk;
    }
    this.#head = Buffer.concat([this.#head, chunk]);
    if (this.#head.length < SNIFF_BYTES) return undefined;
    return this.#releaseHead();
  }

  #finish(): void {
    if (this.#head) this.push(this.#releaseHead());
    if (this.#expectedLength !== null && this.bytes !== this.#expectedLength) {
      throw new DetourError(`body has ${this.bytes} bytes but Content-Length said ${this.#expectedLength}`, {
        failureClass: 'content-invalid',
        code: 'DETOUR_LENGTH_MISMATCH',
      });
    }
    this.#settle();
  }

  #releaseHead(): Buffer {
    const error = this.#checkImage();
    if (error) throw error;
    const head = this.#head!;
    this.#head = null;
    this.#settle();
    return head;
  }

  #checkImage(): DetourError | undefined {
    if (sniffImage(this.#head!)) return undefined;
    const preview = this.#head!.subarray(0, 8)
      .toString('latin1')
      .replace(/[^\x20-\x7e]/g, '.');
    return new DetourError(
      `expected an image, got ${this.#head!.length ? `bytes "${preview}…"` : 'an empty body'}`,
      {
        failureClass: 'content-invalid',
        code: 'DETOUR_NOT_AN_IMAGE',
      },
    );
  }
}
