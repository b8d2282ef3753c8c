/**
 * Resume a body cut short before its Content-Length with `Range: bytes=K-` and `If-Range`, as
 * `curl -C -` does, instead of downloading the whole file again, but only when the first response
 * gave a strong validator (a strong ETag or Last-Modified): without one, nothing proves the file
 * did not change in between, so the download restarts from zero. A server that answers a range
 * request with 200 (no Range support, or the file changed), or with a 206 whose range or validator
 * disagrees, restarts the download cleanly: the bytes already received are thrown away, never
 * spliced with another copy. The stitched body flows through the same BodyGuard as any other.
 */
import { Readable } from 'node:stream';
import { DetourError } from '../errors.js';
import type { AttemptResponse, HeaderValue } from '../types/index.js';

/** Smaller bodies are not worth a range request: a cut is rescued by a full retry. */
export const RESUME_MIN_BYTES = 64 * 1024;
export const DEFAULT_MAX_RESUMES = 3;

/** A range request was answered with the whole file: read this response from the start instead. */
export class BodyRestart extends DetourError {
  readonly response: AttemptResponse;

  constructor(response: AttemptResponse, received: number) {
    super(
      `the body was cut short after ${received} bytes; the server answered the range request with the whole file`,
      {
        failureClass: 'connect-reset',
        code: 'DETOUR_BODY_RESTART',
      },
    );
    this.response = response;
  }
}

export interface ResumeOptions {
  /** The declared length of the whole body. */
  total: number;
  maxResumes: number;
  /** A strong ETag or the Last-Modified date, sent as If-Range. */
  validator?: string | undefined;
  /** Ask the same strategy for the bytes from `start` on. */
  fetchRange(start: number, validator: string | undefined): Promise<AttemptResponse>;
  /** Ask the same strategy for the whole body again (a restart from zero). */
  fetchWhole(): Promise<AttemptResponse>;
  /** Whether a 200 answer may restart the download (false once the body was handed to a caller). */
  canRestart(): boolean;
  signal: AbortSignal;
}

export interface ResumableBody {
  body: Readable;
  /** Range requests that continued the body so far. */
  readonly resumes: number;
}

const header = (value: HeaderValue) => (Array.isArray(value) ? value[0] : value);

/** The If-Range validator of a response: a strong ETag, else Last-Modified (weak ETags may not be used). */
export function rangeValidator(headers: Readonly<Record<string, HeaderValue>>): string | undefined {
  const etag = header(headers.etag);
  if (etag && !etag.startsWith('W/')) return etag;
  return header(headers['last-modified']);
}

/** `bytes START-END/TOTAL` → its numbers, or undefined. */
export function parseContentRange(
  value: string | undefined,
): { start: number; end: number; total: number | null } | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value?.trim() ?? '');
  if (!match) return undefined;
  return {
    start: Number(match[1]),
    end: Number(match[2]),
    total: match[3] === '*' ? null : Number(match[3]),
  };
}

/** Whether a response's body may be resumed if it is cut short. */
export function isResumable(
  response: AttemptResponse,
  declared: number | null,
  maxResumes: number,
): declared is number {
  if (declared === null || declared < RESUME_MIN_BYTES || maxResumes <= 0) return false;
  if (response.status !== 200 || response.decoded || response.degraded) return false;
  return header(response.headers['accept-ranges'])?.trim().toLowerCase() !== 'none';
}

/** Whether a range answer continues the body: a 206 of exactly the rest, of the same version. */
function continues(next: AttemptResponse, received: number, options: ResumeOptions): boolean {
  const range = parseContentRange(header(next.headers['content-range']));
  return (
    next.status === 206 &&
    range?.start === received &&
    (range.total === null || range.total === options.total) &&
    range.end === options.total - 1 &&
    sameVersion(next.headers, options.validator)
  );
}

/** Whether a range answer names the version the validator names (its ETag, or its Last-Modified date). */
function sameVersion(headers: Readonly<Record<string, HeaderValue>>, validator: string | undefined): boolean {
  if (validator === undefined) return false;
  const isEtag = validator.startsWith('"');
  return header(isEtag ? headers.etag : headers['last-modified']) === validator;
}

function truncated(received: number, total: number, cause: unknown): DetourError {
  return new DetourError(`the body was cut short after ${received} of ${total} bytes`, {
    failureClass: 'connect-reset',
    code: 'ERR_STREAM_PREMATURE_CLOSE',
    cause,
  });
}

/** The body of `first`, continued with range requests when it ends (or fails) before `total` bytes. */
export function resumableBody(first: Readable, options: ResumeOptions): ResumableBody {
  const state = { resumes: 0 };
  async function* stitch(): AsyncGenerator<Buffer> {
    let source = first;
    let received = 0;
    let attempts = 0;
    for (;;) {
      let failure: unknown;
      try {
        for await (const chunk of source) {
          received += (chunk as Buffer).length;
          yield chunk as Buffer;
        }
      } catch (error) {
        failure = error;
      }
      if (received >= options.total) {
        // Every byte arrived (the guard still checks the count); an error after the last byte does not matter.
        return;
      }
      if (options.signal.aborted) throw options.signal.reason ?? failure;
      if (failure instanceof DetourError) throw failure;
      // The consumer gave up (its own sink failed, e.g. a full disk): no range request for nobody.
      if (body.destroyed) throw failure ?? truncated(received, options.total, failure);
      if (attempts >= options.maxResumes) throw truncated(received, options.total, failure);
      attempts++;
      // No validator: nothing proves the rest belongs to the same file. Start again from zero.
      if (options.validator === undefined) throw await restart(received, failure);
      const next = await options.fetchRange(received, options.validator);
      if (continues(next, received, options)) {
        state.resumes++;
        source = next.body;
        continue;
      }
      if (next.status === 200 && options.canRestart()) throw new BodyRestart(next, received);
      // A 206 of another range or another version of the file: never spliced, restarted.
      next.body.destroy();
      throw await restart(received, failure);
    }
  }
  // The error that ends this body: a BodyRestart with a fresh whole response, or the truncation.
  async function restart(received: number, failure: unknown): Promise<DetourError> {
    if (!options.canRestart()) return truncated(received, options.total, failure);
    const whole = await options.fetchWhole();
    if (whole.status === 200) return new BodyRestart(whole, received);
    whole.body.destroy();
    return truncated(received, options.total, failure);
  }
  const body = Readable.from(stitch(), { objectMode: false });
  body.once('close', () => {
    if (!first.destroyed) first.destroy();
  });
  return {
    body,
    get resumes() {
      return state.resumes;
    },
  };
}
