import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AttemptRequest,
  type AttemptResponse,
  acceptsEncoding,
  DEFAULT_TIMEOUTS,
  DetourError,
  FAILURE_CLASSES,
  type FailureClass,
  followWithRetries,
  headerString,
  hostMatches,
  RELAXED_CIPHERS,
  type Route,
  type Strategy,
} from '@detour/core/internal';
import { pinnedRoute } from './args.js';
import { guardTarget, type Lookup } from './guard.js';
import { findHashedCaDir, locateExecutable, SYSTEM_CA_BUNDLES } from './locate.js';
import { type CurlRun, type RunContext, runCurl } from './run.js';

export interface CurlOptions {
  /** The curl binary: a path, or a name looked up on PATH (default `curl`). */
  curlPath?: string;
  /** Hosts whose certificates are not checked (`--insecure`); attempts to them are marked `insecure`. */
  insecureHosts?: readonly string[];
  /** Allow legacy TLS (`--tlsv1 --ciphers …`), as tls-relaxed does (default false). */
  relaxTls?: boolean;
  /** Cipher list for `relaxTls` (default core's `RELAXED_CIPHERS`, the list tls-relaxed measured). */
  ciphers?: string;
  /**
   * System CA bundle combined with the caller's extra CAs. Default: the system's hashed CA
   * directory (`--capath`, e.g. /etc/ssl/certs) beside a file of the extra CAs alone, else the
   * first of `SYSTEM_CA_BUNDLES` that exists, combined with them. Giving a bundle always combines.
   */
  caBundle?: string;
  /**
   * A stopped run's process group is killed at once (SIGKILL); this is how long to wait after that
   * for its pipes to close before giving up on them, e.g. when a descendant left the group and
   * holds stdout (default 250).
   */
  killGraceMs?: number;
  /** Environment for PATH lookup and for the child (default `process.env`; proxy variables are never passed on). */
  env?: Record<string, string | undefined>;
  /** Where the strategy's private temp dir goes (CA bundle, header files; default `os.tmpdir()`). */
  tmpDir?: string;
  /** DNS lookup for the private-network guard (tests). */
  lookup?: Lookup;
}

interface Located {
  curl?: string;
  reason?: string;
}

/** The strategy's temp dir and the CA bundles written into it (one file per distinct PEM). */
interface WorkDir {
  path: string;
  caFiles: Map<string, Promise<string>>;
}

/**
 * What another client on the same route can rescue: every failure that is not terminal, except a
 * body that arrived and was refused (`content-invalid`: wrong kind, wrong size; curl would download
 * the same bytes again) and one over the size limit (`too-large`, terminal anyway).
 */
export const CURL_RESCUES: ReadonlySet<FailureClass> = new Set(
  FAILURE_CLASSES.filter((c) => c !== 'content-invalid' && c !== 'too-large'),
);

/**
 * `curl`: the same request made by the real curl binary, through the same route (proxy, SOCKS or
 * direct), with the same limits, deadline and extra CAs. A different TLS stack and trust store
 * than Node's, which is why it rescues what Node cannot. Certificate checks stay on (against the
 * system store plus the caller's CAs) except for `insecureHosts`.
 */
export class CurlStrategy implements Strategy {
  readonly name = 'curl';
  readonly stage = 'fallback' as const;
  readonly reason = "curl's own TLS and proxy stack, same route and limits";
  readonly rescues = CURL_RESCUES;
  readonly #options: CurlOptions;
  readonly #env: Record<string, string | undefined>;
  readonly #live = new Map<ChildProcess, () => Promise<void>>();
  #located: Located | undefined;
  #reported = false;
  #systemCa: string | null | undefined;
  /** The hashed CA directory, looked for once (null: none, a bundle is combined instead). */
  #systemCaDir: string | null | undefined;
  #work: Promise<WorkDir> | undefined;

  constructor(options: CurlOptions = {}) {
    this.#options = { ...options, insecureHosts: [...(options.insecureHosts ?? [])] };
    this.#env = options.env ?? process.env;
  }

  /** Where curl was found (undefined when it was not). */
  get curlPath(): string | undefined {
    return this.#locate().curl;
  }

  /** Process ids of the curl children running now (for tests and diagnostics). */
  get pids(): number[] {
    return [...this.#live.keys()].flatMap((child) =>
      child.pid === undefined || child.exitCode !== null || child.signalCode !== null ? [] : [child.pid],
    );
  }

  applies(req: AttemptRequest): true | string {
    const located = this.#locate();
    if (located.reason) {
      if (!this.#reported) {
        this.#reported = true;
        req.logger.warn({ strategy: this.name, reason: located.reason }, 'curl strategy unavailable');
      }
      return located.reason;
    }
    if (req.pinResolvedAddress && req.route.kind === 'http-proxy') {
      return 'pinResolvedAddress: curl cannot send an HTTP proxy a checked address for a name';
    }
    return true;
  }

  /** What this attempt's runs share: the located curl, the work dir and the trust files. */
  async #context(req: AttemptRequest): Promise<RunContext> {
    const located = this.#locate();
    if (!located.curl) {
      throw new DetourError(located.reason ?? 'curl not found', {
        failureClass: 'unavailable',
        code: 'CURL_NOT_FOUND',
      });
    }
    const work = await this.#workDir();
    return {
      curlPath: located.curl,
      env: this.#env,
      killGraceMs: this.#options.killGraceMs ?? 250,
      ...(await this.#trust(work, req)),
      workDir: work.path,
      live: this.#live,
    };
  }

  /** One hop, guarded and run by a new curl; reports the exchange (and whether it was insecure). */
  async #runHop(
    req: AttemptRequest,
    hop: { url: URL; headers: Record<string, string> },
    route: Route,
    ctx: RunContext,
    hopSignal: AbortSignal,
  ): Promise<{ run: CurlRun; insecure: boolean }> {
    const timeouts = { ...DEFAULT_TIMEOUTS, ...req.timeouts };
    const resolve = await guardTarget(
      hop.url,
      route,
      req.allowPrivateNetwork,
      hopSignal,
      this.#options.lookup,
    );
    const insecure =
      hop.url.protocol === 'https:' && hostMatches(hop.url.hostname, this.#options.insecureHosts ?? []);
    const run = await runCurl(
      {
        url: hop.url,
        headers: hop.headers,
        route,
        maxBytes: req.limits.maxBytes,
        maxTimeSec: (req.deadline - Date.now()) / 1000,
        connectTimeoutSec: timeouts.connect / 1000,
        stallSec: timeouts.socket / 1000,
        insecure,
        relaxedCiphers: this.#options.relaxTls ? (this.#options.ciphers ?? RELAXED_CIPHERS) : undefined,
        resolve,
      },
      ctx,
      hopSignal,
    );
    // curl is not the pipeline's transport: it reports each exchange itself (the result's
    // flags come from these reports, D47).
    req.reportHop?.({ url: hop.url, insecure });
    return { run, insecure };
  }

  async attempt(req: AttemptRequest, signal: AbortSignal): Promise<AttemptResponse> {
    const ctx = await this.#context(req);
    let insecure = false;
    // Core's redirect-and-retry loop (kit): the same rules as the in-process transport, resets
    // through a proxy included (not retried, D11). Every hop is guarded and run by a new curl.
    // Under pinResolvedAddress, socks5h/socks4a become socks5/socks4: curl resolves, --resolve pins.
    const route = pinnedRoute(req.route, req.pinResolvedAddress);
    const { response, url, headers, retries } = await followWithRetries<CurlRun>(
      {
        url: req.url,
        headers: req.headers,
        route,
        limits: req.limits,
        send: async (hop, hopSignal) => {
          const sent = await this.#runHop(req, hop, route, ctx, hopSignal);
          insecure ||= sent.insecure;
          return sent.run;
        },
        discard: (run) => run.discard(),
      },
      signal,
    );
    const encoding = headerString(response.headers['content-encoding']);
    return {
      status: response.status,
      headers: response.headers,
      body: response.body,
      finalUrl: url.toString(),
      route, // the route curl really took (socks5 for a pinned socks5h)
      decoded: !!encoding && encoding.toLowerCase() !== 'identity' && acceptsEncoding(headers),
      ...(insecure ? { insecure: true } : {}),
      ...(retries ? { retries } : {}),
    };
  }

  /**
   * End every live curl child, wait until each is reaped, then remove the strategy's temp dir (CA
   * bundles, header files). Idempotent; a later attempt makes a new dir.
   */
  async close(): Promise<void> {
    await Promise.all([...this.#live.values()].map((stop) => stop()));
    const work = this.#work;
    this.#work = undefined;
    const dir = await work?.then(
      (w) => w.path,
      () => undefined,
    );
    if (dir) await rm(dir, { recursive: true, force: true });
  }

  #locate(): Located {
    if (this.#located) return this.#located;
    const wanted = this.#options.curlPath ?? 'curl';
    const curl = locateExecutable(wanted, this.#env);
    this.#located = curl
      ? { curl }
      : { reason: `curl not found at ${/[\\/]/.test(wanted) ? wanted : `${wanted} (PATH)`}` };
    return this.#located;
  }

  /** The strategy's private temp dir (0700), made on first use. */
  #workDir(): Promise<WorkDir> {
    this.#work ??= mkdtemp(join(this.#options.tmpDir ?? tmpdir(), 'detour-curl-')).then((path) => ({
      path,
      caFiles: new Map(),
    }));
    return this.#work;
  }

  /**
   * What curl trusts when the caller has extra CAs (else curl's own default store): the system's
   * hashed CA directory (`--capath`) plus a file of the extra CAs, or — without such a directory,
   * or with a `caBundle` option — the system bundle and the extra CAs combined in one file. Each
   * file is written once per strategy (per distinct PEM) and reused by every run until `close()`.
   */
  async #trust(work: WorkDir, req: AttemptRequest): Promise<{ caFile: string | undefined; caPath?: string }> {
    const extra = req.tls.extraCaPem;
    if (!extra) return { caFile: undefined };
    const caPath = this.#systemCaPath();
    const pem = caPath ? `${extra}\n` : this.#caPem(req, extra);
    return { caFile: await this.#caFile(work, pem), ...(caPath ? { caPath } : {}) };
  }

  /** The system's hashed CA directory (looked for once), unless a `caBundle` was given. */
  #systemCaPath(): string | undefined {
    if (this.#options.caBundle !== undefined) return undefined;
    this.#systemCaDir ??= findHashedCaDir() ?? null;
    return this.#systemCaDir ?? undefined;
  }

  /** The file holding `pem` in the strategy's dir (0600), written on first use. */
  #caFile(work: WorkDir, pem: string): Promise<string> {
    let file = work.caFiles.get(pem);
    if (!file) {
      const path = join(work.path, `ca-${work.caFiles.size}.pem`);
      file = writeFile(path, pem, { mode: 0o600 }).then(() => path);
      work.caFiles.set(pem, file);
    }
    return file;
  }

  /** One bundle: the system's (or `caBundle`) plus the caller's extra CAs. */
  #caPem(req: AttemptRequest, extra: string): string {
    if (this.#systemCa === undefined) {
      this.#systemCa = null;
      for (const path of this.#options.caBundle ? [this.#options.caBundle] : SYSTEM_CA_BUNDLES) {
        try {
          this.#systemCa = readFileSync(path, 'utf8');
          break;
        } catch {
          // try the next one
        }
      }
      if (this.#systemCa === null) {
        req.logger.warn({ strategy: this.name }, 'no system CA bundle found: curl trusts only the extra CAs');
      }
    }
    return `${this.#systemCa ?? ''}\n${extra}\n`;
  }
}

/** The `curl` strategy: `createPipeline({ use: [curl({ insecureHosts })] })`. A missing curl makes it skip. */
export function curl(options: CurlOptions = {}): Strategy {
  return new CurlStrategy(options);
}
