/**
 * 1×1 fully transparent images, the smallest valid files of each format. Each was checked with a
 * real decoder (libwebp's `dwebp`/`cwebp`/`gif2webp`): they decode to one pixel with alpha 0.
 */
export interface PlaceholderImage {
  readonly body: Buffer;
  readonly contentType: string;
}

/** PNG, 8-bit RGBA, IDAT = deflate(filter 0 + 4 zero bytes). 68 bytes. */
export const TRANSPARENT_PNG: PlaceholderImage = Object.freeze({
  contentType: 'image/png',
  body: Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAAC0lEQVR42mNgAAIAAAUAAen63NgAAAAASUVORK5CYII=',
    'base64',
  ),
});

/** GIF89a with a graphic control extension marking colour 0 transparent. 42 bytes. */
export const TRANSPARENT_GIF: PlaceholderImage = Object.freeze({
  contentType: 'image/gif',
  body: Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64'),
});

/** WebP lossless (VP8L) with the alpha bit set. 34 bytes. */
export const TRANSPARENT_WEBP: PlaceholderImage = Object.freeze({
  contentType: 'image/webp',
  body: Buffer.from('UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==', 'base64'),
});

type Format = 'png' | 'gif' | 'webp';

const BY_FORMAT: Readonly<Record<Format, PlaceholderImage>> = {
  png: TRANSPARENT_PNG,
  gif: TRANSPARENT_GIF,
  webp: TRANSPARENT_WEBP,
};

const EXTENSIONS: Readonly<Record<string, Format>> = {
  '.png': 'png',
  '.apng': 'png',
  '.gif': 'gif',
  '.webp': 'webp',
};
const MIME: Readonly<Record<string, Format>> = {
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

/** Path extensions of image files (the placeholder only stands in for images). */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.png',
  '.apng',
  '.gif',
  '.webp',
  '.jpg',
  '.jpeg',
  '.jfif',
  '.bmp',
  '.ico',
  '.avif',
  '.heic',
  '.heif',
  '.tif',
  '.tiff',
]);

export function extensionOf(url: URL): string {
  const last = url.pathname.split('/').pop() ?? '';
  const dot = last.lastIndexOf('.');
  return dot > 0 ? last.slice(dot).toLowerCase() : '';
}

interface Range {
  type: string;
  q: number;
}

/** `Accept` parsed into media ranges with their q-values (q=0 ranges dropped). */
export function parseAccept(accept: string | undefined): Range[] {
  if (!accept) return [];
  const out: Range[] = [];
  for (const part of accept.split(',')) {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (!type) continue;
    const q = params.map((p) => /^q=([0-9.]+)$/.exec(p)?.[1]).find((v) => v !== undefined);
    const weight = q === undefined ? 1 : Number(q);
    if (Number.isFinite(weight) && weight > 0) out.push({ type, q: weight });
  }
  return out;
}

function accepts(ranges: Range[], mime: string): boolean {
  if (ranges.length === 0) return true;
  const [major] = mime.split('/');
  return ranges.some((r) => r.type === mime || r.type === `${major}/*` || r.type === '*/*');
}

/**
 * The built-in image to serve: the URL's extension decides first (`.gif` → GIF, `.webp` → WebP);
 * otherwise PNG, unless `Accept` rules PNG out and names GIF or WebP. Browser-like `Accept` headers
 * (`image/webp,image/*`) all accept PNG, so the extension is what usually matters.
 */
export function pickImage(url: URL, accept: string | undefined): PlaceholderImage {
  const byExtension = EXTENSIONS[extensionOf(url)];
  if (byExtension) return BY_FORMAT[byExtension];
  const ranges = parseAccept(accept);
  if (accepts(ranges, 'image/png')) return TRANSPARENT_PNG;
  const named = ranges
    .filter((r) => MIME[r.type] !== undefined)
    .sort((a, b) => b.q - a.q)
    .map((r) => MIME[r.type]!)[0];
  return BY_FORMAT[named ?? 'png'];
}

/** Whether `Accept` asks for images (an `image/…` range that is not out-weighed by a generic one). */
export function acceptsImagesFirst(accept: string | undefined): boolean {
  const ranges = parseAccept(accept);
  const image = Math.max(0, ...ranges.filter((r) => r.type.startsWith('image/')).map((r) => r.q));
  const other = Math.max(
    0,
    ...ranges.filter((r) => !r.type.startsWith('image/') && r.type !== '*/*').map((r) => r.q),
  );
  return image > 0 && image >= other;
}
