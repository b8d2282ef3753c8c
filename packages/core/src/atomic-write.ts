import { randomBytes } from 'node:crypto';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DetourError } from './errors.js';
import type { AttemptRecord } from './types.js';

function writeFailure(path: string, error: unknown, attempts: AttemptRecord[]): DetourError {
  return new DetourError(`could not write the download to ${path}: ${(error as Error).message}`, {
    failureClass: 'unknown',
    code: (error as NodeJS.ErrnoException).code,
    cause: error,
    attempts,
  });
}

/** A hidden temporary path beside `path` (same directory, so the final rename is atomic). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.detour-part`);
}

/** Rename a finished temporary file into place; on failure remove it and say why (typed). */
export async function commitTempFile(temp: string, path: string, attempts: AttemptRecord[]): Promise<void> {
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw writeFailure(path, error, attempts);
  }
}

/**
 * Write `body` to `path` through a temporary file beside it and a rename, so that a reader never
 * sees half a file and a failure leaves nothing behind (toFile() answered from the cache or a
 * shared download).
 */
export async function writeFileAtomically(
  path: string,
  body: Buffer,
  attempts: AttemptRecord[] = [],
): Promise<void> {
  const temp = tempPathFor(path);
  try {
    await writeFile(temp, body, { flag: 'wx', mode: 0o644 });
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw writeFailure(path, error, attempts);
  }
  await commitTempFile(temp, path, attempts);
}
