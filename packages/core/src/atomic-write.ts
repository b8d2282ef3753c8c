import { randomBytes } from 'node:crypto';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DetourError } from './errors.js';
import type { AttemptRecord } from './types.js';

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
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.detour-part`);
  try {
    await writeFile(temp, body, { flag: 'wx', mode: 0o644 });
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw new DetourError(`could not write the download to ${path}: ${(error as Error).message}`, {
      failureClass: 'unknown',
      code: (error as NodeJS.ErrnoException).code,
      cause: error,
      attempts,
    });
  }
}
