import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

/**
 * Where an executable is: `name` itself when it contains a path separator, else the first match on
 * `PATH`. Synchronous and cheap (a few `access` calls); callers cache the answer.
 */
export function locateExecutable(
  name: string,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  if (name.includes('/') || name.includes('\\') || isAbsolute(name)) {
    return isExecutableFile(name) ? resolve(name) : undefined;
  }
  // Windows finds `curl` as `curl.exe` (System32 ships one since Windows 10 1803).
  const extensions =
    process.platform === 'win32'
      ? ['', ...(env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';').filter(Boolean)]
      : [''];
  for (const dir of (env.PATH ?? env.Path ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const ext of extensions) {
      const candidate = join(dir, name + ext);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return undefined;
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The system CA bundle curl would use, for combining with the caller's extra CAs. */
export const SYSTEM_CA_BUNDLES: readonly string[] = [
  '/etc/ssl/certs/ca-certificates.crt', // Debian, Ubuntu, Alpine, Arch
  '/etc/pki/tls/certs/ca-bundle.crt', // Fedora, RHEL
  '/etc/ssl/ca-bundle.pem', // openSUSE
  '/etc/ssl/cert.pem', // macOS, BSD
];

/** System CA directories in OpenSSL's hashed layout (`<subject hash>.0` links, as c_rehash makes). */
export const SYSTEM_CA_DIRS: readonly string[] = ['/etc/ssl/certs', '/etc/pki/tls/certs', '/etc/ssl'];

/**
 * The first of `dirs` that holds hashed CA links, or undefined. curl given such a directory
 * (`--capath`) looks a root up by hash when a chain needs it, instead of parsing a whole bundle
 * (~150 roots) in every process: the bench measured 69 -> 15 ms per file.
 */
export function findHashedCaDir(dirs: readonly string[] = SYSTEM_CA_DIRS): string | undefined {
  for (const dir of dirs) {
    try {
      if (readdirSync(dir).some((name) => /^[0-9a-f]{8}\.\d+$/.test(name))) return dir;
    } catch {
      // not there: try the next one
    }
  }
  return undefined;
}
