import type { FetchResultInfo } from '@detour/core';
import { maskedAttempts, type SecretPolicy } from 'detour/front-end';

/** How the CLI prints URLs and messages (the front-end kit's policies): masked, or `--show-secrets`. */
export { MASK_SECRETS, maskedAttempts, type SecretPolicy, SHOW_SECRETS } from 'detour/front-end';

/** The result as printed: `url`/`finalUrl` without credentials or secret query values unless asked. */
export function masked<T extends FetchResultInfo>(info: T, secrets: SecretPolicy): T {
  return {
    ...info,
    url: secrets.url(info.url),
    finalUrl: secrets.url(info.finalUrl),
    attempts: maskedAttempts(info.attempts, secrets),
  };
}
