import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { DetourError, type Route } from '@detour/core';
import { buildCurlInvocation, type CurlCall } from './args.js';
import { curlError } from './exit-codes.js';
import { MAX_HEAD_BYTES, parseFinalHead, type ResponseHead } from './headers.js';

/** What a run needs besides the call: where things are, and the caller's CAs. */
export interface RunContext {
  curlPath: string;
  env: Record<string, string | undefined>;
  killGraceMs: number;
  /** The `--cacert` file (written once per strategy), or undefined: see `CurlCall.caFile`. */
  caFile: string | undefined;
  /** The system's hashed CA directory for `--capath`, when `caFile` holds the extra CAs only. */
  caPath?: string | undefined;
  /** The strategy's private temp dir (mode 0700): each run's header file goes here. */
  workDir: string;
  /** Live runs, so `close()` can end them: each stops its child and resolves once it is cleaned up. */
  live: Map<ChildProcess, () => Promise<void>>;
}

/** One curl run whose response head has arrived; the body is still streaming from stdout. */
export interface CurlRun extends ResponseHead {
  readonly body: PassThrough;
  readonly pid: number;
  /** Stop the run (body not wanted: a redirect, a retry) and wait until the child and its temp files are gone. */
  discard(): Promise<void>;
}

/**
 * Send `sig` to the child's whole process group (it is spawned `detached`, so it leads its own):
 * a `--curl` wrapper script and anything it started go with it. Falls back to the child alone when
 * the group is gone or cannot be signalled.
 */
export function signalGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  const pid = child.pid;
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      child.kill(sig);
    } catch {
      // already gone
    }
  }
}

/** Live children, so that an exiting process takes their groups with it (they are not in its group). */
const groups = new Set<ChildProcess>();
let exitHooked = false;

function trackGroup(child: ChildProcess): void {
  groups.add(child);
  child.once('close', () => groups.delete(child));
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const live of groups) signalGroup(live, 'SIGKILL');
  });
}

/**
 * Kill the child's process group (SIGKILL: a discarded run has nothing worth flushing) and resolve
 * once `closed` (the child's 'close': exited and pipes closed). A descendant that left the group
 * (setsid) and still holds a pipe is not waited for: `pipeGraceMs` after the exit the pipes are
 * destroyed.
 */
export function terminate(
  child: ChildProcess,
  pipeGraceMs: number,
  closed: Promise<void>,
  pipes: { destroy(): void }[] = [],
): Promise<void> {
  signalGroup(child, 'SIGKILL');
  const giveUpOnPipes = () => {
    setTimeout(() => {
      for (const pipe of [child.stdin, child.stdout, child.stderr, ...pipes]) pipe?.destroy();
    }, pipeGraceMs).unref();
  };
  if (child.exitCode !== null || child.signalCode !== null) giveUpOnPipes();
  else child.once('exit', giveUpOnPipes);
  return closed;
}

let runs = 0;

/**
 * Spawn curl for one request and resolve as soon as the final response head is known.
 *
 * The body comes through stdout; the headers go to a file of their own (`--dump-header`), so the
 * two never mix (with `-D -` trailers would land in the body). curl flushes that file after every
 * header line, before the first body byte reaches stdout, so the head is read from it when the
 * first body byte arrives, when curl exits, or by a light poll in between (a head whose body is
 * slow to start). A plain file, no FIFO: the same code runs on Linux, macOS and Windows.
 */
export async function runCurl(
  call: Omit<CurlCall, 'headerFile' | 'caFile' | 'caPath'>,
  ctx: RunContext,
  signal: AbortSignal,
): Promise<CurlRun> {
  signal.throwIfAborted();
  const headerFile = join(ctx.workDir, `head-${process.pid}-${++runs}`);
  let child: ChildProcess;
  try {
    const { args, config } = buildCurlInvocation({
      ...call,
      headerFile,
      caFile: ctx.caFile,
      caPath: ctx.caPath,
    });
    child = spawn(ctx.curlPath, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: childEnv(ctx.env),
      windowsHide: true,
      // Its own process group: a deadline, an abort or close() kills curl and anything it (or a
      // wrapper script given as `curlPath`) started, so no descendant holds our pipes open.
      detached: true,
    });
    child.stdin!.on('error', () => {}); // curl may exit before reading its config (EPIPE)
    child.stdin!.end(config);
  } catch (error) {
    await rm(headerFile, { force: true });
    if (signal.aborted) throw signal.reason;
    throw new DetourError(`could not start curl: ${(error as Error).message}`, {
      failureClass: 'unavailable',
      code: (error as NodeJS.ErrnoException).code ?? 'CURL_SPAWN_FAILED',
      cause: error,
    });
  }
  return watch(child, headerFile, call.route, ctx, signal);
}

/** The environment curl runs in: proxy variables removed (the route decides), messages in English. */
function childEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || /^(http|https|all|no|ftp)_proxy$/i.test(key)) continue;
    out[key] = value;
  }
  out.LC_ALL = 'C';
  return out;
}

/** How often the header file is read while a head is awaited and no body byte has come yet. */
const HEAD_POLL_MS = 25;

function watch(
  child: ChildProcess,
  headerFile: string,
  route: Route,
  ctx: RunContext,
  signal: AbortSignal,
): Promise<CurlRun> {
  const body = new PassThrough();
  let stderr = '';
  let head: ResponseHead | undefined;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let stopped: unknown; // why we ended the child ourselves
  let markDone!: () => void;
  const done = new Promise<void>((resolve) => {
    markDone = resolve;
  });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  trackGroup(child);
  // Whatever curl (or a wrapper script) left running in its group dies with it: nothing may hold
  // our pipes open after the exit.
  child.once('exit', () => signalGroup(child, 'SIGKILL'));
  const stop = (reason: unknown): Promise<void> => {
    stopped ??= reason;
    return terminate(child, ctx.killGraceMs, closed).then(() => done);
  };
  const stopForClose = () =>
    stop(new DetourError('the curl strategy was closed', { failureClass: 'aborted', code: 'ABORT_ERR' }));
  ctx.live.set(child, stopForClose);

  return new Promise<CurlRun>((resolve, reject) => {
    let settled = false;
    let poll: NodeJS.Timeout | undefined;
    const fail = (error: unknown) => {
      if (!settled) {
        settled = true;
        body.destroy(); // never handed out: nobody listens for its errors
        reject(error);
      } else if (head && !body.destroyed) {
        body.destroy(error as Error);
      }
    };
    const onAbort = () => {
      // Before the head: settle only once the child is gone, so a failed attempt leaves no process.
      // After it: the body errors at once (the consumer is waiting) and the child follows.
      if (settled) fail(signal.reason);
      void stop(signal.reason).then(() => fail(signal.reason));
    };
    signal.addEventListener('abort', onAbort, { once: true });

    /** Read the header file; settle with the run once the final head is complete. */
    const readHead = async (): Promise<void> => {
      if (head || settled) return;
      const dump = await readFile(headerFile, 'latin1').catch(() => '');
      if (head || settled) return;
      const found = parseFinalHead(dump);
      if (found) {
        head = found;
        settled = true;
        clearInterval(poll);
        resolve({
          ...found,
          body,
          pid: child.pid!,
          discard: () => {
            body.destroy();
            return stop('discarded');
          },
        });
      } else if (dump.length > MAX_HEAD_BYTES) {
        const error = new DetourError('response head too large', {
          failureClass: 'content-invalid',
          code: 'CURL_HEAD_TOO_LARGE',
        });
        void stop(error).then(() => fail(error));
      }
    };
    poll = setInterval(() => void readHead(), HEAD_POLL_MS);

    const finish = async () => {
      clearInterval(poll);
      signal.removeEventListener('abort', onAbort);
      if (stopped === undefined) await readHead(); // every header byte is on disk once curl is gone
      // Listed as live until its header file is gone, so that `close()` waits for that too.
      await rm(headerFile, { force: true }).catch(() => {});
      ctx.live.delete(child);
      markDone();
      if (!settled) {
        if (stopped !== undefined) return fail(stopped);
        if (exit!.code !== 0) return fail(exitError(exit!, stderr, route));
        return fail(
          new DetourError('curl exited without a response head', {
            failureClass: 'unknown',
            code: 'CURL_NO_HEAD',
          }),
        );
      }
      if (stopped !== undefined) return; // we ended it (body destroyed, abort, discard)
      if (exit!.code === 0) body.end();
      else fail(exitError(exit!, stderr, route));
    };

    // The first body byte means the head is complete on disk (curl flushed it before).
    child.stdout!.once('data', () => void readHead());
    child.stdout!.pipe(body, { end: false });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      if (stderr.length < 16_384) stderr += chunk;
    });
    // The consumer gave up on the body (status >= 400, too large, aborted): end curl now.
    body.once('close', () => {
      if (!exit) void stop('body closed');
    });
    child.once('error', (error) => {
      fail(
        new DetourError(`curl failed: ${error.message}`, {
          failureClass: 'unavailable',
          code: 'CURL_SPAWN_FAILED',
        }),
      );
    });
    child.once('close', (code, sig) => {
      exit = { code, signal: sig };
      void finish();
    });
  });
}

function exitError(
  exit: { code: number | null; signal: NodeJS.Signals | null },
  stderr: string,
  route: Route,
): DetourError {
  if (exit.code !== null) return curlError(exit.code, stderr, route);
  return new DetourError(`curl was killed by ${exit.signal}`, {
    failureClass: 'unknown',
    code: `CURL_${exit.signal}`,
  });
}
