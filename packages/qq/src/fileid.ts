/**
 * QQ NT `fileid`: base64url of a protobuf message. Field 2: the SHA-1 of the file (20 bytes); 3: its
 * size in bytes (OneBot's `file_size`); 4: the appid (1406 private image, 1407 group image,
 * 1402/1403 voice); 5: the upload time in microseconds; 10: the retention in seconds (2678400 for
 * group images). The same picture gets a new fileid in every message (field 5 changes), so the
 * digest and size, not the fileid, identify the file. Sources: decision D40 (docs/decisions.md).
 */

export interface FileId {
  /** Field 2, hex (40 characters): the SHA-1 of the file (see decision D40). */
  digest: string;
  /** Field 3: the file's size in bytes. */
  size: number;
  /** Field 4: the appid (1406 private image, 1407 group image, …), when present. */
  appid: number | undefined;
  /** Field 5: when the file was uploaded, when present. */
  uploadTime: Date | undefined;
  /** Field 10: how long Tencent keeps the file, in seconds, when present. */
  retentionSeconds: number | undefined;
}

const BASE64 = /^[A-Za-z0-9_\-+/]+={0,2}$/;

/** Decode a `fileid`; undefined when it is not a protobuf with a 20-byte digest and a size. */
export function decodeFileId(fileid: string): FileId | undefined {
  if (typeof fileid !== 'string' || fileid.length > 4096 || !BASE64.test(fileid)) {
    return undefined;
  }
  // Node's base64url decoder takes the `+` `/` alphabet and padding too (BASE64 admits both).
  const fields = readMessage(Buffer.from(fileid, 'base64url'));
  if (!fields) return undefined;
  const digest = fields.get(2);
  const size = fields.get(3);
  if (!(digest instanceof Uint8Array) || digest.length !== 20 || typeof size !== 'bigint') return undefined;
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  const number = (field: number) => {
    const value = fields.get(field);
    return typeof value === 'bigint' && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
  };
  const micros = number(5);
  return {
    digest: Buffer.from(digest).toString('hex'),
    size: Number(size),
    appid: number(4),
    uploadTime: micros === undefined ? undefined : new Date(Math.floor(micros / 1000)),
    retentionSeconds: number(10),
  };
}

/** When the file stops being downloadable (upload time + retention), when both are known. */
export function fileIdExpiry(file: FileId): Date | undefined {
  if (!file.uploadTime || file.retentionSeconds === undefined) return undefined;
  return new Date(file.uploadTime.getTime() + file.retentionSeconds * 1000);
}

type Field = bigint | Uint8Array;

/** The first value of every field of a protobuf message, or undefined when the bytes are not one. */
function readMessage(bytes: Uint8Array): Map<number, Field> | undefined {
  const fields = new Map<number, Field>();
  let at = 0;
  const varint = (): bigint | undefined => {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (at >= bytes.length) return undefined;
      const byte = bytes[at++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
    }
    return undefined;
  };
  while (at < bytes.length) {
    const key = varint();
    if (key === undefined) return undefined;
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field === 0) return undefined;
    let value: Field;
    if (wire === 0) {
      const v = varint();
      if (v === undefined) return undefined;
      value = v;
    } else if (wire === 2) {
      const length = varint();
      if (length === undefined || at + Number(length) > bytes.length) return undefined;
      value = bytes.subarray(at, at + Number(length));
      at += Number(length);
    } else if (wire === 1 || wire === 5) {
      const size = wire === 1 ? 8 : 4;
      if (at + size > bytes.length) return undefined;
      // Stryker disable next-line ArithmeticOperator: a fixed-width value is never read (the digest is 20 bytes, numbers are varints); only its width counts.
      value = bytes.subarray(at, at + size);
      at += size;
    } else {
      return undefined;
    }
    if (!fields.has(field)) fields.set(field, value);
  }
  return fields;
}
