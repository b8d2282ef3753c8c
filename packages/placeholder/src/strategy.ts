import { Readable } from 'node:stream';
import {
  type AttemptRecord,
  type AttemptRequest,
  type AttemptResponse,
  DetourUsageError,
  DIRECT,
  type Strategy,
  sniffImage,
} from '@detour/core/internal';
import {
  acceptsImagesFirst,
  extensionOf,
  IMAGE_EXTENSIONS,
  type PlaceholderImage,
  pickImage,
} from './images.js';

/** Header naming the failures that led to the placeholder (also in the result's attempts). */
export const REASON_HEADER = 'x-detour-placeholder-reason';

export interface PlaceholderOptions {
  /** Serve this image instead of the built-in transparent ones (its bytes must be an image). */
  image?: PlaceholderImage;
  /**
   * Stand in only for images (default true): the request expects an image, its path has an image
   * extension, or its `Accept` asks for images first. A 1×1 PNG in place of a voice clip helps nobody.
   */
  onlyImages?: boolean;
}

/** A header-safe summary of the failures so far: `direct: tls-handshake ERR_SSL_…; curl: timeout CURL_E28`. */
export function describeFailures(failures: readonly AttemptRecord[]): string {
  const text = failures
    .map((f) => `${f.strategy}: ${f.failureClass ?? 'unknown'}${f.code ? ` ${f.code}` : ''}`)
    .join('; ');
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 512);
}

/**
 * `placeholder`: the last resort. When every real strategy failed (with a failure that is not
 * terminal: the orchestrator never gets here after a 404, an abort or a policy block), it returns a
 * 1×1 transparent image, or the caller's image, marked `degraded` so that it is never taken, nor
 * cached, as the real file. Registering it is what enables it.
 */
export class PlaceholderStrategy implements Strategy {
  readonly name = 'placeholder';
  readonly stage = 'last-resort' as const;
  readonly reason = 'last resort, enabled by the caller: a stand-in image marked degraded';
  readonly rescues = 'any' as const;
  readonly #image: PlaceholderImage | undefined;
  readonly #onlyImages: boolean;

  constructor(options: PlaceholderOptions = {}) {
    if (options.image) {
      const { body, contentType } = options.image;
      if (!Buffer.isBuffer(body) || !sniffImage(body)) {
        throw new DetourUsageError(
          'placeholder: `image.body` must be the bytes of an image (PNG, GIF, WebP, JPEG…)',
        );
      }
      if (!/^image\/[\w.+-]+$/i.test(contentType ?? '')) {
        throw new DetourUsageError(
          `placeholder: \`image.contentType\` must be an image/… type, got ${contentType}`,
        );
      }
      this.#image = { body: Buffer.from(body), contentType };
    }
    this.#onlyImages = options.onlyImages ?? true;
  }

  applies(req: AttemptRequest): true | string {
    if (req.failures.length === 0) return 'nothing has failed yet (placeholder is a last resort)';
    if (this.#onlyImages && !isImageRequest(req)) return 'not an image request';
    return true;
  }

  async attempt(req: AttemptRequest, signal: AbortSignal): Promise<AttemptResponse> {
    signal.throwIfAborted();
    const image = this.#image ?? pickImage(req.url, req.headers.accept);
    const reason = describeFailures(req.failures) || 'unknown';
    return {
      status: 200,
      headers: {
        'content-type': image.contentType,
        'content-length': String(image.body.length),
        'cache-control': 'no-store',
        [REASON_HEADER]: reason,
      },
      body: Readable.from([image.body]),
      finalUrl: req.url.toString(),
      // Nothing went over the network: the pipeline records the route of a degraded answer as `none`.
      route: DIRECT,
      degraded: true,
      degradedReason: reason,
    };
  }
}

function isImageRequest(req: AttemptRequest): boolean {
  return (
    req.expect === 'image' ||
    IMAGE_EXTENSIONS.has(extensionOf(req.url)) ||
    acceptsImagesFirst(req.headers.accept)
  );
}

/** The `placeholder` last resort (registering it enables it): `createPipeline({ use: [placeholder()] })`. */
export function placeholder(options: PlaceholderOptions = {}): Strategy {
  return new PlaceholderStrategy(options);
}
