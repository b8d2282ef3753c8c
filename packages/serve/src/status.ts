import { DetourError, DetourUsageError } from '@detour/core';

/** The HTTP status of a failed fetch, by failure class (the contract of `/v1/fetch`). */
export const STATUS_BY_CLASS: Readonly<Record<string, number>> = {
  blocked: 403,
  'url-expired': 410,
  'too-large': 413,
  'content-invalid': 422,
  timeout: 504,
};

/** Codes core raises for bad input that are not DetourUsageError instances (as the CLI reads them). */
function isUsage(error: DetourError): boolean {
  return (
    error instanceof DetourUsageError ||
    error.code.startsWith('DETOUR_BAD_') ||
    error.code === 'DETOUR_UNKNOWN_STRATEGY' ||
    error.code === 'DETOUR_NO_STRATEGY'
  );
}

/**
 * 400 bad request (usage), 403 `blocked`, 410 `url-expired`, 413 `too-large`, 422
 * `content-invalid`, 504 `timeout`, 503 while shutting down, 502 for everything else (the origin
 * could not be reached through any strategy).
 */
export function statusFor(error: unknown): number {
  if (!(error instanceof DetourError)) return 502;
  if (error.code === 'DETOUR_CLOSED') return 503;
  if (isUsage(error)) return 400;
  return STATUS_BY_CLASS[error.failureClass] ?? 502;
}
