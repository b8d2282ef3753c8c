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
  return new RunWatch(child, headerFile, route, ctx, signal).start();
}

type Exit = { code: number | null; signal: NodeJS.Signals | null };

/**
 * One run followed from spawn to cleanup: settles with the run once the final head is read, then
 * feeds the body until curl exits, and ends the child (and its header file) on abort, discard,
 * close() or a body nobody reads any more.
 */
class RunWatch {
  readonly body = new PassThrough();
  private stderr = '';
  private head: ResponseHead | undefined;
  private exit: Exit | undefined;
  private stopped: unknown; // why we ended the child ourselves
  private markDone!: () => void;
  private readonly done = new Promise<void>((resolve) => {
    this.markDone = resolve;
  });
  private readonly closed: Promise<void>;
  private settled = false;
  private poll: NodeJS.Timeout | undefined;
  private resolve!: (run: CurlRun) => void;
  private reject!: (error: unknown) => void;

  constructor(
    private readonly child: ChildProcess,
    private readonly headerFile: string,
    private readonly route: Route,
    private readonly ctx: RunContext,
    private readonly signal: AbortSignal,
  ) {
    this.closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    trackGroup(child);
    // Whatever curl (or a wrapper script) left running in its group dies with it: nothing may hold
    // our pipes open after the exit.
    child.once('exit', () => signalGroup(child, 'SIGKILL'));
    ctx.live.set(child, () =>
      this.stop(
        new DetourError('the curl strategy was closed', { failureClass: 'aborted', code: 'ABORT_ERR' }),
      ),
    );
  }

  start(): Promise<CurlRun> {
    return new Promise<CurlRun>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.signal.addEventListener('abort', this.onAbort, { once: true });
      this.poll = setInterval(() => void this.readHead(), HEAD_POLL_MS);
      this.wireChild();
    });
  }

  private stop(reason: unknown): Promise<void> {
    this.stopped ??= reason;
    return terminate(this.child, this.ctx.killGraceMs, this.closed).then(() => this.done);
  }

  private fail(error: unknown): void {
    if (!this.settled) {
      this.settled = true;
      this.body.destroy(); // never handed out: nobody listens for its errors
      this.reject(error);
    } else if (this.head && !this.body.destroyed) {
      this.body.destroy(error as Error);
    }
  }

  private readonly onAbort = () => {
    const { reason } = this.signal;
    // Before the head: settle only once the child is gone, so a failed attempt leaves no process.
    // After it: the body errors at once (the consumer is waiting) and the child follows.
    if (this.settled) this.fail(reason);
    void this.stop(reason).then(() => this.fail(reason));
  };

  /** Read the header file; settle with the run once the final head is complete. */
  private async readHead(): Promise<void> {
    if (this.head || this.settled) return;
    const dump = await readFile(this.headerFile, 'latin1').catch(() => '');
    if (this.head || this.settled) return;
    const found = parseFinalHead(dump);
    if (found) {
      this.head = found;
      this.settled = true;
      clearInterval(this.poll);
      this.resolve({
        ...found,
        body: this.body,
        pid: this.child.pid!,
        discard: () => {
          this.body.destroy();
          return this.stop('discarded');
        },
      });
    } else if (dump.length > MAX_HEAD_BYTES) {
      const error = new DetourError('response head too large', {
        failureClass: 'content-invalid',
        code: 'CURL_HEAD_TOO_LARGE',
      });
      void this.stop(error).then(() => this.fail(error));
    }
  }

  private async finish(): Promise<void> {
    clearInterval(this.poll);
    this.signal.removeEventListener('abort', this.onAbort);
    if (this.stopped === undefined) await this.readHead(); // every header byte is on disk once curl is gone
    // Listed as live until its header file is gone, so that `close()` waits for that too.
    await rm(this.headerFile, { force: true }).catch(() => {});
    this.ctx.live.delete(this.child);
    this.markDone();
    const exit = this.exit!;
    if (!this.settled) {
      if (this.stopped !== undefined) return this.fail(this.stopped);
      if (exit.code !== 0) return this.fail(exitError(exit, this.stderr, this.route));
      return this.fail(
        new DetourError('curl exited without a response head', {
          failureClass: 'unknown',
          code: 'CURL_NO_HEAD',
        }),
      );
    }
    if (this.stopped !== undefined) return; // we ended it (body destroyed, abort, discard)
    if (exit.code === 0) this.body.end();
    else this.fail(exitError(exit, this.stderr, this.route));
  }

  private wireChild(): void {
    const { child, body } = this;
    // The first body byte means the head is complete on disk (curl flushed it before).
    child.stdout!.once('data', () => void this.readHead());
    child.stdout!.pipe(body, { end: false });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      if (this.stderr.length < 16_384) this.stderr += chunk;
    });
    // The consumer gave up on the body (status >= 400, too large, aborted): end curl now.
    body.once('close', () => {
      if (!this.exit) void this.stop('body closed');
    });
    child.once('error', (error) => {
      this.fail(
        new DetourError(`curl failed: ${error.message}`, {
          failureClass: 'unavailable',
          code: 'CURL_SPAWN_FAILED',
        }),
      );
    });
    child.once('close', (code, sig) => {
      this.exit = { code, signal: sig };
      void this.finish();
    });
  }
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
