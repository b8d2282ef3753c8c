import { type FetchResultInfo, redactText, redactUrl } from '@detour/core';

/** How the CLI prints URLs and messages: masked (default) or as they are (`--show-secrets`). */
export interface SecretPolicy {
  url(url: string): string;
  text(text: string): string;
}

export const MASK_SECRETS: SecretPolicy = { url: redactUrl, text: redactText };
export const SHOW_SECRETS: SecretPolicy = { url: (u) => u, text: (t) => t };

export function maskedAttempts<T extends { message?: string }>(
  attempts: readonly T[],
  secrets: SecretPolicy,
): T[] {
  return attempts.map((a) => (a.message === undefined ? a : { ...a, message: secrets.text(a.message) }));
}

/** The result as printed: `url`/`finalUrl` without credentials or secret query values unless asked. */
export function masked<T extends FetchResultInfo>(info: T, secrets: SecretPolicy): T {
  return {
    ...info,
    url: secrets.url(info.url),
    finalUrl: secrets.url(info.finalUrl),
    attempts: maskedAttempts(info.attempts, secrets),
  };
}
