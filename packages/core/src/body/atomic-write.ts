/**
 * Where `toFile()` writes. A regular file (or a new one) is replaced atomically: the body goes to
 * a hidden temp file beside it, renamed over it only when complete, keeping the old file's mode
 * and owner; through a symlink the file it points to is replaced and the link kept. Anything that
 * is not a regular file (a character device such as /dev/null, a FIFO, a socket) and anything
 * under /dev or /proc is opened and written into, as curl does: never replaced.
 */
import { randomBytes } from 'node:crypto';
import { constants, createWriteStream, open as openFd, type Stats } from 'node:fs';
import {
  access,
  chmod,
  chown,
  lstat,
  readlink,
  realpath,
  rename,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { connect, Socket } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { DetourError, DetourUsageError } from '../errors.js';
import type { AttemptRecord } from '../types/index.js';

/** A local write failure (missing directory, permission, disk full): `local-io`, naming the user's path. */
export function localIoError(
  path: string,
  error: unknown,
  attempts: AttemptRecord[] = [],
  hidden?: string,
): DetourError {
  if (error instanceof DetourError && error.failureClass === 'local-io') return error;
  const raw = (error as Error)?.message ?? String(error);
  const message = hidden ? raw.replaceAll(hidden, path) : raw;
  return new DetourError(`could not write ${path}: ${message}`, {
    failureClass: 'local-io',
    code: (error as NodeJS.ErrnoException)?.code ?? 'DETOUR_LOCAL_IO',
    cause: error,
    attempts,
  });
}

/** A hidden temporary path beside `path` (same directory, so the final rename is atomic). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.detour-part`);
}

/** Where one toFile() writes; see the module comment. */
export interface FileTarget {
  /** The path the caller gave. */
  readonly path: string;
  /** `replace`: temp file + rename; `into`: the target itself is opened and written. */
  readonly kind: 'replace' | 'into';
  /** A sink for one attempt's body (errors are the sink's own: local-io). */
  open(signal: AbortSignal): Promise<Writable>;
  /** The attempt failed: drop what it wrote where that is possible (the temp file). */
  discard(): Promise<void>;
  /** The body is complete: rename into place (mode and owner kept) or end the stream. */
  commit(): Promise<void>;
  /** Write a whole body (a cache hit or a shared download) and commit. */
  writeAll(body: Buffer, signal: AbortSignal): Promise<void>;
}

const SPECIAL_DIRS = ['/dev/', '/proc/'];
const FIFO_RETRY_MS = 25;
const openFdAsync = promisify(openFd);

/**
 * Look at `path` before any network: an empty path is a usage error; a missing or unwritable
 * directory, or a directory as target, is `local-io` at once.
 */
export async function openTarget(path: string): Promise<FileTarget> {
  if (typeof path !== 'string' || path === '') {
    throw new DetourUsageError('the output path is empty', 'DETOUR_BAD_PATH');
  }
  const absolute = resolve(path);
  const found = await stat(absolute).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw localIoError(path, error);
  });
  if (found?.isDirectory()) {
    throw localIoError(path, Object.assign(new Error('it is a directory'), { code: 'EISDIR' }));
  }
  if (found && (!found.isFile() || SPECIAL_DIRS.some((dir) => absolute.startsWith(dir)))) {
    return new IntoTarget(path, absolute, found);
  }
  const final = found ? await realpath(absolute) : await followDanglingLinks(absolute);
  try {
    await access(dirname(final), constants.W_OK | constants.X_OK);
  } catch (error) {
    throw localIoError(path, error);
  }
  return new ReplaceTarget(path, final, found);
}

/** The path a chain of symlinks ends at, for a target that does not exist yet. */
async function followDanglingLinks(path: string): Promise<string> {
  let current = path;
  for (let hops = 0; hops < 40; hops++) {
    const info = await lstat(current).catch(() => undefined);
    if (!info?.isSymbolicLink()) break;
    current = resolve(dirname(current), await readlink(current));
  }
  // The directory itself may be reached through links: resolve it when it exists.
  const dir = await realpath(dirname(current)).catch(() => dirname(current));
  return join(dir, basename(current));
}

class ReplaceTarget implements FileTarget {
  readonly kind = 'replace' as const;
  readonly #final: string;
  readonly #temp: string;
  readonly #existing: Stats | undefined;

  constructor(
    readonly path: string,
    final: string,
    existing: Stats | undefined,
  ) {
    this.#final = final;
    this.#temp = tempPathFor(final);
    this.#existing = existing;
  }

  async open(): Promise<Writable> {
    const sink = createWriteStream(this.#temp, { flags: 'w', mode: this.#mode() });
    await new Promise<void>((resolve, reject) => {
      sink.once('open', () => resolve());
      sink.once('error', (error) => reject(localIoError(this.path, error, [], this.#temp)));
    });
    return sink;
  }

  async discard(): Promise<void> {
    await unlink(this.#temp).catch(() => {});
  }

  async commit(): Promise<void> {
    try {
      const existing = this.#existing;
      if (existing) {
        await chmod(this.#temp, existing.mode & 0o7777);
        // Owner kept where permitted (root, or the same owner): else the new file is the caller's.
        await chown(this.#temp, existing.uid, existing.gid).catch(() => {});
        await chmod(this.#temp, existing.mode & 0o7777); // chown clears setuid/setgid bits
      }
      await rename(this.#temp, this.#final);
    } catch (error) {
      await this.discard();
      throw localIoError(this.path, error, [], this.#temp);
    }
  }

  async writeAll(body: Buffer): Promise<void> {
    try {
      await writeFile(this.#temp, body, { flag: 'wx', mode: this.#mode() });
    } catch (error) {
      await this.discard();
      throw localIoError(this.path, error, [], this.#temp);
    }
    await this.commit();
  }

  #mode(): number {
    return this.#existing ? this.#existing.mode & 0o777 : 0o644;
  }
}

class IntoTarget implements FileTarget {
  readonly kind = 'into' as const;
  readonly #absolute: string;
  readonly #found: Stats;
  #sink: Writable | undefined;
  #error: unknown;

  constructor(
    readonly path: string,
    absolute: string,
    found: Stats,
  ) {
    this.#absolute = absolute;
    this.#found = found;
  }

  /** The device/FIFO/socket is opened once; each attempt writes through a wrapper that never ends it. */
  async open(signal: AbortSignal): Promise<Writable> {
    this.#sink ??= await this.#openSink(signal);
    const sink = this.#sink;
    const wrapper = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        if (this.#error) return callback(this.#error as Error);
        if (sink.write(chunk)) callback();
        else sink.once('drain', () => callback());
      },
    });
    const onError = (error: Error) => wrapper.destroy(error);
    sink.once('error', onError);
    wrapper.once('close', () => sink.off('error', onError));
    return wrapper;
  }

  async discard(): Promise<void> {
    // Bytes written into a device or FIFO cannot be taken back; the next attempt (if any) goes on.
  }

  async commit(): Promise<void> {
    const sink = this.#sink;
    this.#sink = undefined;
    if (!sink || sink.destroyed) return;
    await new Promise<void>((resolve, reject) => {
      sink.once('error', (error) => reject(localIoError(this.path, error)));
      sink.end(() => resolve());
    });
    sink.destroy();
  }

  async writeAll(body: Buffer, signal: AbortSignal): Promise<void> {
    const sink = await this.open(signal);
    await new Promise<void>((resolve, reject) => {
      sink.once('error', (error) => reject(localIoError(this.path, error)));
      sink.end(body, () => resolve());
    });
    await this.commit();
  }

  /** Close whatever was opened (an attempt failed for good, or the fetch was aborted). */
  close(): void {
    this.#sink?.destroy();
    this.#sink = undefined;
  }

  async #openSink(signal: AbortSignal): Promise<Writable> {
    let sink: Writable;
    if (this.#found.isSocket()) sink = await this.#connect(signal);
    else if (this.#found.isFIFO()) sink = await this.#openFifo(signal);
    else {
      sink = createWriteStream(this.#absolute, { flags: 'w' });
      await new Promise<void>((resolve, reject) => {
        (sink as ReturnType<typeof createWriteStream>).once('open', () => resolve());
        sink.once('error', reject);
      }).catch((error) => {
        throw localIoError(this.path, error);
      });
    }
    sink.on('error', (error) => {
      this.#error ??= localIoError(this.path, error);
    });
    return sink;
  }

  /**
   * A FIFO's open blocks until a reader exists, in a thread nobody can cancel: open it
   * non-blocking instead, retrying while there is no reader (ENXIO) until the signal fires.
   */
  async #openFifo(signal: AbortSignal): Promise<Writable> {
    const started = Date.now();
    for (;;) {
      if (signal.aborted) throw this.#unread(signal.reason, started);
      try {
        const fd = await openFdAsync(this.#absolute, constants.O_WRONLY | constants.O_NONBLOCK);
        return new Socket({ fd, readable: false, writable: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENXIO') throw localIoError(this.path, error);
      }
      await sleep(FIFO_RETRY_MS, undefined, { signal }).catch(() => {}); // the loop says why it stopped
    }
  }

  /**
   * Why the wait for a reader ended: the caller's abort stays an abort; a deadline that passed
   * while nobody opened the FIFO is the FIFO's failure (`local-io`), not the network's.
   */
  #unread(reason: unknown, started: number): unknown {
    if (!(reason instanceof DetourError && reason.failureClass === 'timeout')) return reason;
    const waited = ((Date.now() - started) / 1000).toFixed(1);
    const error = Object.assign(
      new Error(
        `nobody is reading it: it is a FIFO and no reader opened it in ${waited} s (start the reader, e.g. \`cat ${this.path}\`, before or while Detour writes)`,
      ),
      { code: 'DETOUR_FIFO_UNREAD' },
    );
    return localIoError(this.path, error);
  }

  #connect(signal: AbortSignal): Promise<Writable> {
    return new Promise((resolve, reject) => {
      const socket = connect({ path: this.#absolute });
      const onAbort = () => {
        socket.destroy();
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () => {
        signal.removeEventListener('abort', onAbort);
        socket.setNoDelay?.(true);
        resolve(socket);
      });
      socket.once('error', (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(localIoError(this.path, error));
      });
    });
  }
}

/** Free what a target holds after a failed toFile (an opened device or FIFO). */
export function releaseTarget(target: FileTarget): void {
  if (target instanceof IntoTarget) target.close();
}
