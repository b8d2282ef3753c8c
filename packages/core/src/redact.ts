import type { Route } from './types.js';

/** Query parameters whose values are secrets (Tencent's `rkey`, signed-URL tokens, ...). */
export const SECRET_QUERY_PARAMS: ReadonlySet<string> = new Set([
  'rkey',
  'token',
  'access_token',
  'auth',
  'authorization',
  'key',
  'apikey',
  'api_key',
  'sig',
  'signature',
  'password',
  'passwd',
  'secret',
  'session',
  'sessionid',
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
]);

const MASK = '***';

/** A URL fit for a log line: no user/password, secret query values masked. Never throws. */
export function redactUrl(input: string | URL): string {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    return '[invalid url]';
  }
  if (url.username) url.username = MASK;
  if (url.password) url.password = MASK;
  for (const name of [...url.searchParams.keys()]) {
    if (SECRET_QUERY_PARAMS.has(name.toLowerCase())) url.searchParams.set(name, MASK);
  }
  return url.toString();
}

/** A proxy URL without its credentials at all (the `route` field of an attempt). */
export function stripCredentials(input: string | URL): string {
  try {
    const url = new URL(String(input));
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return '[invalid url]';
  }
}

export function describeRoute(route: Route): string {
  return route.kind === 'direct' ? 'direct' : stripCredentials(route.url);
}
