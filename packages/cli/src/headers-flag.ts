import { checkHeader } from '@detour/core/internal';
import { UsageError } from './io.js';

/** `-H 'Name: value'` flags → headers; a bad name or value is bad usage (as for the library's `headers`). */
export function parseHeaders(values: string[] | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const raw of values ?? []) {
    const colon = raw.indexOf(':');
    const name = colon > 0 ? raw.slice(0, colon).trim() : '';
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      // The name only: the value may be a secret (Authorization, Cookie).
      throw new UsageError(`-H takes 'Name: value', got ${JSON.stringify(name || raw.slice(0, 40))}`);
    }
    const value = raw.slice(colon + 1).trim();
    try {
      checkHeader(name, value, '-H');
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    headers[name.toLowerCase()] = value;
  }
  return headers;
}
