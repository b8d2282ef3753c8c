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

  constructor(rules: BodyRules, expectedLength: number | null) {
    super();
    this.#rules = rules;
    this.#expectedLength = expectedLength;
    this.#head = rules.expect === 'image' ? Buffer.alloc(0) : null;
  }

  get expectedLength(): number | null {
    return this.#expectedLength;
  }

  get sha256(): string {
    this.#digest ??= this.#hash.digest('hex');
    return this.#digest;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.#rules.maxBytes) {
      callback(
        new DetourError(`body exceeds the limit of ${this.#rules.maxBytes} bytes`, {
          failureClass: 'too-large',
          code: 'DETOUR_TOO_LARGE',
        }),
      );
      return;
    }
    this.#hash.update(chunk);
    if (this.#head) {
      this.#head = Buffer.concat([this.#head, chunk]);
      if (this.#head.length < SNIFF_BYTES) return callback();
      const error = this.#checkImage();
      if (error) return callback(error);
      const head = this.#head;
      this.#head = null;
      return callback(null, head);
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.#head) {
      const error = this.#checkImage();
      if (error) return callback(error);
      this.push(this.#head);
      this.#head = null;
    }
    if (this.#expectedLength !== null && this.bytes !== this.#expectedLength) {
      return callback(
        new DetourError(`body has ${this.bytes} bytes but Content-Length said ${this.#expectedLength}`, {
          failureClass: 'content-invalid',
          code: 'DETOUR_LENGTH_MISMATCH',
        }),
      );
    }
    callback();
  }

  #checkImage(): DetourError | undefined {
    if (sniffImage(this.#head!)) return undefined;
    const preview = this.#head!.subarray(0, 8).toString('latin1').replace(/[^\x20-\x7e]/g, '.');
    return new DetourError(`expected an image, got ${this.#head!.length ? `bytes "${preview}…"` : 'an empty body'}`, {
      failureClass: 'content-invalid',
      code: 'DETOUR_NOT_AN_IMAGE',
    });
  }
}
