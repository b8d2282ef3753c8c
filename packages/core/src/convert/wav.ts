/** The WAV (RIFF, PCM s16le, mono) container: written around decoded samples, read back from the cache. */

/** The 44-byte header of a canonical PCM s16le mono WAV file holding `dataBytes` bytes of samples. */
export function wavHeader(dataBytes: number, sampleRate: number): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVE', 8, 'latin1');
  header.write('fmt ', 12, 'latin1');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28); // bytes per second
  header.writeUInt16LE(2, 32); // bytes per frame
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

export interface WavInfo {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** Length of the samples, in ms (rounded). */
  durationMs: number;
}

/** The format and length of a PCM WAV body (walking its chunks), or undefined when it is not one. */
export function wavInfo(body: Uint8Array): WavInfo | undefined {
  const buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (buffer.length < 12 || buffer.toString('latin1', 0, 4) !== 'RIFF') return undefined;
  if (buffer.toString('latin1', 8, 12) !== 'WAVE') return undefined;
  let at = 12;
  let format: Omit<WavInfo, 'durationMs'> | undefined;
  while (at + 8 <= buffer.length) {
    const id = buffer.toString('latin1', at, at + 4);
    const size = buffer.readUInt32LE(at + 4);
    if (id === 'fmt ' && size >= 16 && at + 24 <= buffer.length) {
      format = {
        channels: buffer.readUInt16LE(at + 10),
        sampleRate: buffer.readUInt32LE(at + 12),
        bitsPerSample: buffer.readUInt16LE(at + 22),
      };
    } else if (id === 'data' && format) {
      const frame = format.channels * Math.ceil(format.bitsPerSample / 8);
      const bytes = Math.min(size, buffer.length - at - 8);
      if (frame === 0 || format.sampleRate === 0) return undefined;
      return { ...format, durationMs: Math.round((bytes / frame / format.sampleRate) * 1000) };
    }
    at += 8 + size + (size % 2);
  }
  return undefined;
}
