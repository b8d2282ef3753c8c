/** Image formats recognised by their first bytes. */
export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp' | 'bmp' | 'avif' | 'heic' | 'ico';

/** Bytes needed to recognise every format below. */
export const SNIFF_BYTES = 16;

const ascii = (bytes: Uint8Array, start: number, text: string) =>
  text.split('').every((ch, i) => bytes[start + i] === ch.charCodeAt(0));

/** The image format of a body from its first bytes, or null when it is not an image we know. */
export function sniffImage(head: Uint8Array): ImageFormat | null {
  if (head.length >= 8 && ascii(head, 0, '\x89PNG\r\n\x1a\n')) return 'png';
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (head.length >= 6 && (ascii(head, 0, 'GIF87a') || ascii(head, 0, 'GIF89a'))) return 'gif';
  if (head.length >= 12 && ascii(head, 0, 'RIFF') && ascii(head, 8, 'WEBP')) return 'webp';
  if (head.length >= 2 && ascii(head, 0, 'BM')) return 'bmp';
  if (head.length >= 12 && ascii(head, 4, 'ftyp')) {
    const brand = String.fromCharCode(...head.subarray(8, 12));
    if (brand === 'avif' || brand === 'avis') return 'avif';
    if (['heic', 'heix', 'hevc', 'hevx', 'mif1', 'msf1', 'heim', 'heis'].includes(brand)) return 'heic';
  }
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
