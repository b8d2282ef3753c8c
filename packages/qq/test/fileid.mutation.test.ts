/**
 * The rules of `fileid` decoding, one case each (issue 29: `pnpm mutate fileid` checks these kill
 * every mutant of fileid.ts). Messages are built here byte by byte, so each case can break exactly
 * one rule of the protobuf wire format: varints of at most 10 bytes, field 0 refused, wire types
 * 0/1/2/5 only, nothing read past the end, the first value of a repeated field wins.
 */
import { describe, expect, it } from 'vitest';
import { decodeFileId, fileIdExpiry } from '../src/index.js';

/** A varint, `bytes` long at least (zero-padded with continuation bits, as protobuf allows). */
function varint(value: bigint | number, minBytes = 1): number[] {
  const out: number[] = [];
  let v = BigInt(value);
  do {
    out.push(Number(v & 0x7fn));
    v >>= 7n;
  } while (v > 0n || out.length < minBytes);
  return out.map((byte, i) => (i < out.length - 1 ? byte | 0x80 : byte));
}
const key = (field: number, wire: number) => varint((field << 3) | wire);
const bytesField = (field: number, bytes: number[]) => [...key(field, 2), ...varint(bytes.length), ...bytes];
const varintField = (field: number, value: bigint | number) => [...key(field, 0), ...varint(value)];

const DIGEST = Array.from({ length: 20 }, (_, i) => (i * 37 + 11) & 255);
const DIGEST_HEX = Buffer.from(DIGEST).toString('hex');
const digestField = bytesField(2, DIGEST);
const sizeField = varintField(3, 383_495);
const b64 = (bytes: number[]) => Buffer.from(bytes).toString('base64url');

/** The smallest fileid that decodes: digest and size, nothing else. */
const MINIMAL = b64([...digestField, ...sizeField]);
const minimalFile = {
  digest: DIGEST_HEX,
  size: 383_495,
  appid: undefined,
  uploadTime: undefined,
  retentionSeconds: undefined,
};

describe('decodeFileId: what a fileid is', () => {
  it('digest and size are enough; the optional fields are undefined when absent', () => {
    expect(decodeFileId(MINIMAL)).toEqual(minimalFile);
  });

  it('the fields may come in any order, the message may end with a length-delimited field', () => {
    expect(decodeFileId(b64([...sizeField, ...digestField]))).toEqual(minimalFile);
  });

  it.each([
    ['no digest', [...sizeField]],
    ['no size', [...digestField]],
    ['a 19-byte digest', [...bytesField(2, DIGEST.slice(0, 19)), ...sizeField]],
    ['a 21-byte digest', [...bytesField(2, [...DIGEST, 0]), ...sizeField]],
    ['the digest as a varint', [...varintField(2, 7), ...sizeField]],
    ['the size as bytes', [...digestField, ...bytesField(3, [1, 2, 3])]],
    ['the size as a fixed64', [...digestField, ...key(3, 1), 1, 0, 0, 0, 0, 0, 0, 0]],
  ])('undefined for %s', (_name, bytes) => {
    expect(decodeFileId(b64(bytes))).toBeUndefined();
  });

  it('reads multi-byte varints little end first', () => {
    for (const size of [0, 1, 127, 128, 300, 16_384, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) {
      expect(decodeFileId(b64([...digestField, ...varintField(3, size)]))?.size).toBe(size);
    }
  });

  it('a size above 2^53 - 1 is not a size', () => {
    const max = BigInt(Number.MAX_SAFE_INTEGER);
    expect(decodeFileId(b64([...digestField, ...varintField(3, max)]))?.size).toBe(Number.MAX_SAFE_INTEGER);
    expect(decodeFileId(b64([...digestField, ...varintField(3, max + 1n)]))).toBeUndefined();
  });

  it('optional number fields above 2^53 - 1, or not varints, read as absent', () => {
    const max = BigInt(Number.MAX_SAFE_INTEGER);
    const file = (extra: number[]) => decodeFileId(b64([...digestField, ...sizeField, ...extra]));
    expect(file(varintField(4, max))?.appid).toBe(Number.MAX_SAFE_INTEGER);
    expect(file(varintField(4, max + 1n))?.appid).toBeUndefined();
    expect(file(bytesField(4, [1]))?.appid).toBeUndefined();
    // Not even bytes that spell a number in ASCII.
    expect(file(bytesField(4, [0x37]))?.appid).toBeUndefined();
    expect(file(varintField(10, max + 1n))?.retentionSeconds).toBeUndefined();
    expect(file(varintField(10, 0))?.retentionSeconds).toBe(0);
    expect(file(varintField(5, max + 1n))?.uploadTime).toBeUndefined();
  });

  it('the upload time is in microseconds, rounded down to the millisecond', () => {
    const file = decodeFileId(b64([...digestField, ...sizeField, ...varintField(5, 1_999)]));
    expect(file?.uploadTime?.getTime()).toBe(1);
    const zero = decodeFileId(b64([...digestField, ...sizeField, ...varintField(5, 0)]));
    expect(zero?.uploadTime?.getTime()).toBe(0);
  });

  it('the first value of a repeated field wins', () => {
    const other = DIGEST.map((b) => b ^ 0xff);
    const file = decodeFileId(
      b64([
        ...digestField,
        ...sizeField,
        ...bytesField(2, other),
        ...varintField(3, 1),
        ...varintField(4, 1),
        ...varintField(4, 2),
      ]),
    );
    expect(file).toMatchObject({ digest: DIGEST_HEX, size: 383_495, appid: 1 });
  });
});

describe('decodeFileId: the wire format', () => {
  it('skips fixed64 and fixed32 fields by their width', () => {
    // Bytes that would read as field 3 if the reader skipped the wrong number of them.
    const fixed64 = [...key(7, 1), ...varintField(3, 9), 0, 0, 0, 0, 0, 0];
    const fixed32 = [...key(8, 5), ...varintField(3, 9), 0, 0];
    expect(decodeFileId(b64([...fixed64, ...digestField, ...sizeField]))?.size).toBe(383_495);
    expect(decodeFileId(b64([...fixed32, ...digestField, ...sizeField]))?.size).toBe(383_495);
    // … also as the last field, exactly filling the message.
    expect(decodeFileId(b64([...digestField, ...sizeField, ...key(7, 1), 1, 2, 3, 4, 5, 6, 7, 8]))).toEqual(
      minimalFile,
    );
    expect(decodeFileId(b64([...digestField, ...sizeField, ...key(8, 5), 1, 2, 3, 4]))).toEqual(minimalFile);
  });

  it.each([
    ['a fixed64 cut short', [...key(7, 1), 1, 2, 3, 4, 5, 6, 7]],
    ['a fixed32 cut short', [...key(8, 5), 1, 2, 3]],
    ['a length past the end', [...key(6, 2), ...varint(3), 1, 2]],
    ['a varint cut short', [...key(4, 0), 0x80]],
    ['a key cut short', [0x80]],
    ['a length cut short', [...key(6, 2), 0x81]],
    ['field number 0', [...varintField(0, 1)]],
    // Each followed by bytes a reader that took it for a fixed32 or fixed64 would skip.
    ['wire type 3 (start group)', [...key(6, 3), 1, 2, 3, 4]],
    ['wire type 4 (end group)', [...key(6, 4), 1, 2, 3, 4, 5, 6, 7, 8]],
    ['wire type 6', [...key(6, 6), 1, 2, 3, 4]],
    // … or by a valid field, which a reader that skipped nothing would go on to read.
    ['wire type 6 before a valid field', [...key(6, 6), ...varintField(9, 1)]],
    ['wire type 7', [...key(6, 7), 1, 2, 3, 4, 5, 6, 7, 8]],
    ['an 11-byte varint', [...key(4, 0), ...varint(1, 11)]],
  ])('undefined for a message with %s', (_name, tail) => {
    expect(decodeFileId(b64([...digestField, ...sizeField, ...tail]))).toBeUndefined();
  });

  it('a varint may take 10 bytes', () => {
    expect(decodeFileId(b64([...digestField, ...sizeField, ...key(4, 0), ...varint(1, 10)]))?.appid).toBe(1);
    expect(decodeFileId(b64([...digestField, ...key(3, 0), ...varint(383_495, 10)]))?.size).toBe(383_495);
  });
});

describe('decodeFileId: the text', () => {
  it('takes base64url and base64, with or without padding', () => {
    // 0xfb 0xff in the digest: `-`/`_` in base64url, `+`/`/` in base64.
    const bytes = [...bytesField(2, [0xfb, 0xff, 0xbf, ...DIGEST.slice(3)]), ...sizeField];
    const url = Buffer.from(bytes).toString('base64url');
    const std = Buffer.from(bytes).toString('base64');
    expect(url).toMatch(/[-_]/);
    expect(std).toMatch(/[+/]/);
    const file = decodeFileId(url);
    expect(file?.digest.slice(0, 6)).toBe('fbffbf');
    expect(decodeFileId(std)).toEqual(file);
    const padded = Buffer.from(bytes).toString('base64');
    expect(padded).toMatch(/[^=]=$/);
    expect(decodeFileId(padded)).toEqual(file);
    const padded2 = Buffer.from([...bytes, ...varintField(4, 1)]).toString('base64');
    expect(padded2).toMatch(/==$/);
    expect(decodeFileId(padded2)?.appid).toBe(1);
  });

  it.each([
    ['a character outside base64 at the end', `${MINIMAL}.`],
    ['a character outside base64 at the start', `.${MINIMAL}`],
    ['a space inside', `${MINIMAL.slice(0, 10)} ${MINIMAL.slice(10)}`],
    ['three padding characters', `${MINIMAL}===`],
    ['padding inside', `${MINIMAL.slice(0, 12)}==${MINIMAL.slice(12)}`],
    ['a percent-escape', `${MINIMAL}%3D`],
  ])('undefined for %s', (_name, text) => {
    expect(decodeFileId(text)).toBeUndefined();
  });

  it('undefined for what is not a string', () => {
    for (const value of [undefined, null, 12345678, ['x'.repeat(40)], { length: 40 }]) {
      expect(decodeFileId(value as never)).toBeUndefined();
    }
  });

  it('refuses text longer than 4096 characters, however valid', () => {
    // A message of exactly 3072 bytes is 4096 base64 characters; one more byte is 4098.
    const message = (total: number) => {
      const head = [...digestField, ...sizeField];
      const fill = total - head.length - 1 - 2; // key(6,2) and a 2-byte length
      return b64([...head, ...key(6, 2), ...varint(fill, 2), ...new Array(fill).fill(0x61)]);
    };
    expect(message(3072)).toHaveLength(4096);
    expect(decodeFileId(message(3072))).toEqual(minimalFile);
    expect(message(3073)).toHaveLength(4098);
    expect(decodeFileId(message(3073))).toBeUndefined();
  });
});

describe('fileIdExpiry', () => {
  const file = { digest: DIGEST_HEX, size: 1, appid: undefined };
  it.each([
    [{ uploadTime: new Date(10_000), retentionSeconds: 60 }, 70_000],
    [{ uploadTime: new Date(10_000), retentionSeconds: 0 }, 10_000],
    [{ uploadTime: new Date(0), retentionSeconds: 1 }, 1_000],
    [{ uploadTime: undefined, retentionSeconds: 60 }, undefined],
    [{ uploadTime: new Date(10_000), retentionSeconds: undefined }, undefined],
  ])('%o → %s', (fields, expected) => {
    expect(fileIdExpiry({ ...file, ...fields })?.getTime()).toBe(expected);
  });
});
