import type { HeaderValue } from '@detour/core';

export interface ResponseHead {
  status: number;
  headers: Record<string, HeaderValue>;
}

/** Longest header dump accepted before the final response head (curl's own limit is 100 KiB per header). */
export const MAX_HEAD_BYTES = 256 * 1024;

/**
 * Find the final response head in curl's `--dump-header` output: blocks separated by an empty
 * line, informational (1xx) blocks skipped. curl does not follow redirects here and CONNECT heads
 * are suppressed, so the first non-1xx block is the response whose body is on stdout. Returns
 * undefined while that block is incomplete. Anything after it (trailers) is ignored.
 */
export function parseFinalHead(dump: string): ResponseHead | undefined {
  let rest = dump;
  for (;;) {
    const end = /\r?\n\r?\n/.exec(rest);
    if (!end) return undefined;
    const block = rest.slice(0, end.index);
    rest = rest.slice(end.index + end[0].length);
    const head = parseHead(block);
    if (head === undefined) continue; // stray empty lines
    if (head.status >= 100 && head.status < 200 && head.status !== 101) continue;
    return head;
  }
}

/** One header block: `HTTP/1.1 200 OK` (or `HTTP/2 200`) and its fields; names lower-cased, repeats joined like Node does. */
export function parseHead(block: string): ResponseHead | undefined {
  const lines = block.split(/\r?\n/);
  while (lines.length && lines[0] === '') lines.shift();
  const statusLine = lines.shift();
  if (!statusLine) return undefined;
  const match = /^HTTP\/[\d.]+\s+(\d{3})/.exec(statusLine);
  if (!match) return undefined;
  const headers: Record<string, HeaderValue> = {};
  let last: string | undefined;
  for (const line of lines) {
    if (/^[ \t]/.test(line) && last !== undefined) {
      // obsolete line folding: continue the previous field
      const previous = headers[last];
      const extra = line.trim();
      if (Array.isArray(previous)) previous[previous.length - 1] = `${previous.at(-1)} ${extra}`;
      else headers[last] = `${previous ?? ''} ${extra}`.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    last = name;
    const existing = headers[name];
    if (name === 'set-cookie') headers[name] = [...(Array.isArray(existing) ? existing : []), value];
    else headers[name] = existing === undefined ? value : `${existing}, ${value}`;
  }
  return { status: Number(match[1]), headers };
}
