/**
 * The shape every layer of the pipeline shares. One fetch is a `Call`; a `Run` turns a call into an
 * `Outcome`; a `Layer` wraps the next run (cache, single flight, circuit, route memory, limiter, or
 * yours). The pipeline composes them in one list (see pipeline.ts), around the orchestrator.
 */
import type { BodyCheck } from '../body/body.js';
import type {
  AttemptRecord,
  AttemptResponse,
  FetchOptions,
  FetchResultInfo,
  HeaderValue,
} from '../types/index.js';

/** What one winning attempt leaves for the result: the consumed value and the body's figures. */
export interface Consumed<T> {
  value: T;
  bytes: number;
  sha256: string;
  expectedBytes?: number | null;
  /** The attempt's signal must live on (a stream still flowing); `release` is called when it ends. */
  holdSignal?: (release: () => void) => void;
}

/**
 * Reads the body of a winning response under its body rules (`check`; a stream wraps it in a
 * `BodyGuard`), under the attempt's signal.
 */
export type Consume<T> = (
  response: AttemptResponse,
  check: BodyCheck,
  signal: AbortSignal,
) => Promise<Consumed<T>>;

/** How a run ended well: the consumed body, the result's fields, and the winning response's headers. */
export interface Outcome<T> {
  consumed: Consumed<T>;
  info: Omit<FetchResultInfo, 'bytes' | 'sha256'>;
  /** The winning response's headers (Cache-Control decides what the cache may keep). */
  headers: Readonly<Record<string, HeaderValue>>;
}

/** A fetch's options once checked: limits resolved, and a signal that also fires on close(). */
export interface CallOptions extends FetchOptions {
  signal: AbortSignal;
  maxBytes: number;
  timeoutMs: number;
}

/** Where a fetch looks in the cache and which download in flight it may share. */
export interface CacheKeys {
  cache: string;
  flight: string;
  /** Why a body may not be stored under `cache` (a preset's key the body must prove), or undefined. */
  checkCached?: ((body: Buffer) => string | undefined) | undefined;
}

/**
 * How a call takes its body: into memory (`fetch`), into a file (`toFile`) or as a stream
 * (`stream`). Layers never look at `T`; they ask the sink.
 */
export interface Sink<T> {
  /** Reads the body of a winning response (once per successful attempt). */
  readonly consume: Consume<T>;
  /** This call's outcome from a body already in memory (a cache hit, a shared download). */
  fromMemory(ready: Outcome<Buffer>): Promise<Outcome<T>>;
  /** Only an in-memory sink may start a download others join: its outcome as a body in memory. */
  toMemory?(outcome: Outcome<T>): Outcome<Buffer>;
  /**
   * After a successful run: hand the body to `store` when the sink can (memory: at once; a file:
   * read back; a stream: when it ends). `store` is undefined when the cache will not keep it; a
   * sink that waits for this answer (a stream) must get it, so the cache layer always calls.
   */
  keep?(outcome: Outcome<T>, store: Store | undefined): Promise<void>;
  /** Keeping costs work of its own (reading a file back): the cache judges the response first. */
  readonly judgeFirst?: boolean;
}

/** Puts a successful run's whole body (and its SHA-256) into the cache. */
export type Store = (body: Buffer, sha256: string) => Promise<void>;

/** One fetch as the layers see it. Layers pass a changed copy down (`{ ...call, plan }`), never mutate. */
export interface Call<T> {
  /** The caller's URL, as results report it. */
  readonly input: URL;
  /** The URL to request (a preset may have rewritten it; a refresh replaces it). */
  readonly url: URL;
  readonly options: CallOptions;
  /** When the whole fetch must be over (ms since the epoch): queueing, every run and attempt included. */
  readonly deadline: number;
  /** Cache and single-flight keys; undefined when the fetch must neither (noCache, credentials). */
  readonly keys: CacheKeys | undefined;
  /** Strategy names to try, in order. */
  readonly plan: readonly string[];
  /** The plan is exact (the caller's list, the circuit's last resort): memory neither reorders nor learns. */
  readonly exact: boolean;
  /** The network environment as the circuit and route memory key it (proxy/TUN/fake-IP state). */
  readonly fingerprint: string;
  /** Failures recorded before this run (an open circuit) that later strategies may rescue. */
  readonly prior: readonly AttemptRecord[];
  readonly sink: Sink<T>;
}

/** Turns a call into its outcome. Generic: a layer works for every sink. */
export type Run = <T>(call: Call<T>) => Promise<Outcome<T>>;

/** Wraps the next run: may answer itself, change the call, or look at the outcome or error. */
export type Layer = (next: Run) => Run;

/** `[a, b, c]` around `run` is `a(b(c(run)))`: the first layer is the outermost. */
export function compose(layers: ReadonlyArray<Layer | false | undefined>, run: Run): Run {
  let composed = run;
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i];
    if (layer) composed = layer(composed);
  }
  return composed;
}
