import { DetourUsageError } from './errors.js';

/** Parse and check a target URL: only http: and https:, a host, no credentials smuggled to logs. */
export function parseTargetUrl(input: string | URL): URL {
  let url: URL;
  // A protocol-relative link (`//host/path`, as QQ's official bot API hands out attachments) is https.
  const text = typeof input === 'string' && input.startsWith('//') ? `https:${input}` : String(input);
  try {
    url = new URL(text);
  } catch {
    throw new DetourUsageError(
      `not a valid URL: ${JSON.stringify(String(input).slice(0, 200))}`,
      'DETOUR_BAD_URL',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DetourUsageError(
      `only http: and https: URLs are fetched, not ${url.protocol}`,
      'DETOUR_BAD_SCHEME',
    );
  }
  if (!url.hostname) throw new DetourUsageError('URL has no host', 'DETOUR_BAD_URL');
  return url;
}
