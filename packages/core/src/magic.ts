/** Media formats recognised by their first bytes (magic numbers), and the kind each belongs to. */

/** Image formats recognised by their first bytes. */
export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp' | 'bmp' | 'avif' | 'heic' | 'ico';
/** Audio formats: QQ voice (SILK, AMR, AMR-WB) and the common ones. */
export type AudioFormat = 'silk' | 'amr' | 'amr-wb' | 'mp3' | 'ogg' | 'opus' | 'wav' | 'm4a';
/** Video containers. */
export type VideoFormat = 'mp4' | 'mov';
export type MediaFormat = ImageFormat | AudioFormat | VideoFormat;
export type MediaKind = 'image' | 'audio' | 'video';
/** What a fetch expects the body to be (`any`: no check). */
export type ExpectKind = 'image' | 'audio' | 'video' | 'media' | 'any';

/** Bytes needed to recognise every format below (OggS page header + `OpusHead`: 36). */
export const SNIFF_BYTES = 40;

/** Whether `bytes` holds `text` (one byte per character) at `start`. Runs on every body: no allocation. */
function ascii(bytes: Uint8Array, start: number, text: string): boolean {
  if (bytes.length < start + text.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[start + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** The image format of a body from its first bytes, or null when it is not an image we know. */
export function sniffImage(head: Uint8Array): ImageFormat | null {
  if (ascii(head, 0, '\x89PNG\r\n\x1a\n')) return 'png';
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (ascii(head, 0, 'GIF87a') || ascii(head, 0, 'GIF89a')) return 'gif';
  if (ascii(head, 0, 'RIFF') && ascii(head, 8, 'WEBP')) return 'webp';
  if (ascii(head, 0, 'BM')) return 'bmp';
  const brand = ftypBrand(head);
  if (brand === 'avif' || brand === 'avis') return 'avif';
  if (brand && ['heic', 'heix', 'hevc', 'hevx', 'mif1', 'msf1', 'heim', 'heis'].includes(brand))
    return 'heic';
  if (
    head.length >= 4 &&
    head[0] === 0 &&
    head[1] === 0 &&
    (head[2] === 1 || head[2] === 2) &&
    head[3] === 0
  ) {
    return 'ico';
  }
  return null;
}

/** The ISO BMFF major brand (`isom`, `M4A `, `qt  `, `avif`…) when the body starts with an `ftyp` box. */
function ftypBrand(head: Uint8Array): string | null {
  if (!ascii(head, 4, 'ftyp') || head.length < 12) return null;
  return String.fromCharCode(...head.subarray(8, 12));
}

/**
 * The audio format of a body from its first bytes. SILK is QQ's voice codec: `#!SILK_V3`,
 * sometimes after one `0x02` byte (Tencent's variant), served as `audio/amr`.
 */
export function sniffAudio(head: Uint8Array): AudioFormat | null {
  if (ascii(head, 0, '#!SILK_V3') || (head[0] === 0x02 && ascii(head, 1, '#!SILK_V3'))) return 'silk';
  if (ascii(head, 0, '#!AMR-WB\n')) return 'amr-wb';
  if (ascii(head, 0, '#!AMR\n')) return 'amr';
  if (ascii(head, 0, 'OggS')) return ascii(head, 28, 'OpusHead') ? 'opus' : 'ogg';
  if (ascii(head, 0, 'RIFF') && ascii(head, 8, 'WAVE')) return 'wav';
  if (ascii(head, 0, 'ID3')) return 'mp3';
  // An MPEG audio frame: 11 sync bits, a layer that is not "reserved".
  if (head.length >= 2 && head[0] === 0xff && (head[1]! & 0xe0) === 0xe0 && (head[1]! & 0x06) !== 0) {
    return 'mp3';
  }
  const brand = ftypBrand(head);
  if (brand === 'M4A ' || brand === 'M4B ' || brand === 'M4P ') return 'm4a';
  return null;
}

/** The video container of a body from its first bytes (ISO BMFF `ftyp` brands that are not images or audio). */
export function sniffVideo(head: Uint8Array): VideoFormat | null {
  const brand = ftypBrand(head);
  if (brand === null) return null;
  if (brand === 'qt  ') return 'mov';
  if (sniffImage(head) !== null || sniffAudio(head) !== null) return null;
  return 'mp4';
}

/** The format of a body from its first bytes, whatever its kind, or null. */
export function sniffFormat(head: Uint8Array): MediaFormat | null {
  return sniffImage(head) ?? sniffAudio(head) ?? sniffVideo(head);
}

const SNIFFERS: Record<MediaKind, (head: Uint8Array) => MediaFormat | null> = {
  image: sniffImage,
  audio: sniffAudio,
  video: sniffVideo,
};

/** Whether a head of body is what `expect` asks for; `any` takes everything. */
export function matchesExpect(head: Uint8Array, expect: ExpectKind): boolean {
  if (expect === 'any') return true;
  if (expect === 'media') return sniffFormat(head) !== null;
  return SNIFFERS[expect](head) !== null;
}

export const EXPECT_KINDS: readonly ExpectKind[] = ['image', 'audio', 'video', 'media', 'any'];
