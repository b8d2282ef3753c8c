// No runtime import of the library here: `detour --version` and `--help` load this module, and
// nothing else (issue 25). `-H` is parsed by the front-end kit (kit-flags.ts).
/** What a command may touch of the process: streams and environment, injectable for tests. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
}

/** Bad command-line input: exit code 2 with a one-line message. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export function parseNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim()) || Number(value) <= 0) {
    throw new UsageError(`${flag} takes a positive whole number, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

export function parseList(value: string | string[] | undefined): string[] {
  const values = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

export function write(stream: NodeJS.WritableStream, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** An http(s) URL, or bad usage that names what is wrong with it (the scheme, the port). */
export function parseHttpUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // WHATWG parsing says only "Invalid URL": find the usual culprit ourselves.
    const port = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(?:\[[^\]]*\]|[^:/?#]*):(\d+)(?:[/?#]|$)/i.exec(
      url,
    )?.[1];
    if (port !== undefined && Number(port) > 65_535) {
      throw new UsageError(`port ${port} is out of range (0-65535) in ${JSON.stringify(url)}`);
    }
    throw new UsageError(`not an http(s) URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`not an http(s) URL (${parsed.protocol.slice(0, -1)}:): ${JSON.stringify(url)}`);
  }
  return parsed;
}

/** An http(s) URL, or bad usage. */
export function checkUrl(url: string): void {
  parseHttpUrl(url);
}
