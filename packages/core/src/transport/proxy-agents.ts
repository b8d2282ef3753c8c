/**
 * Proxy agents with a deadline on the proxy itself, and pinned destinations.
 *
 * - Connecting to the proxy and getting its CONNECT (or SOCKS) answer has its own deadline
 *   (`timeouts.proxy`, 3 s by default): a proxy that accepts TCP and never answers (a stuck
 *   accelerator) fails the attempt with `proxy` / `DETOUR_PROXY_TIMEOUT` so `direct-bypass` runs,
 *   instead of waiting for the attempt deadline. The socket to that proxy is destroyed at once,
 *   and `destroy()` tears down every tunnel still being set up: nothing keeps the process alive.
 * - SOCKS routes (socks-agent.ts, loaded on first use) that resolve names locally (`socks4://`, `socks5://`) resolve the name once with
 *   the request's lookup (the private-address guard), and send that checked address to the proxy.
 *   With `pin`, routes where the proxy resolves names (HTTP CONNECT, `socks5h://`, `socks4a://`)
 *   do the same. The Host header and TLS SNI keep the name.
 */
import type { LookupAddress } from 'node:dns';
import dns from 'node:dns';
import type http from 'node:http';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { HttpProxyAgent, type HttpProxyAgentOptions, HttpsProxyAgent } from 'hpagent';
import { DetourError } from '../errors.js';
import { stripCredentials } from '../redact.js';

/** How the agents of one proxy route treat the proxy. */
export interface ProxyConnectSettings {
  /** Deadline for connecting to the proxy and getting its tunnel answer, in ms. */
  timeoutMs: number;
  /** Resolve and check the name here and send the address, even where the proxy could resolve it. */
  pin: boolean;
}

export type Lookup = (
  hostname: string,
  options: dns.LookupOneOptions,
  callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void;

type ConnectCallback = (error: Error | null, socket?: Duplex | null) => void;
type NodeConnectCallback = (error: Error | null, socket: Duplex) => void;

export function proxyTimeoutError(proxyUrl: string, ms: number): DetourError {
  return new DetourError(`proxy ${stripCredentials(proxyUrl)} did not open a tunnel within ${ms} ms`, {
    failureClass: 'proxy',
    code: 'DETOUR_PROXY_TIMEOUT',
  });
}

function closedError(): DetourError {
  return new DetourError('the transport was closed while a proxy tunnel was being set up', {
    failureClass: 'aborted',
    code: 'DETOUR_CLOSED',
  });
}

/**
 * Tunnels being set up through one agent: each has a deadline, and `destroyAll()` ends them.
 * `begin` returns the signal to tear the tunnel down with and `settle`, which reports whether the
 * tunnel is still wanted (false once the deadline passed or the agent was destroyed).
 */
export class PendingTunnels {
  readonly #pending = new Set<AbortController>();

  constructor(
    readonly proxyUrl: string,
    readonly timeoutMs: number,
  ) {}

  begin(): { signal: AbortSignal; settle: () => boolean } {
    const controller = new AbortController();
    this.#pending.add(controller);
    const timer = setTimeout(
      () => controller.abort(proxyTimeoutError(this.proxyUrl, this.timeoutMs)),
      this.timeoutMs,
    );
    return {
      signal: controller.signal,
      settle: () => {
        clearTimeout(timer);
        this.#pending.delete(controller);
        return !controller.signal.aborted;
      },
    };
  }

  destroyAll(): void {
    for (const controller of this.#pending) controller.abort(closedError());
    this.#pending.clear();
  }
}

/** One address for `host` through `lookup` (the guarded one when the request has it): resolved once. */
export function resolveOnce(lookup: Lookup, host: string, family?: 4): Promise<string> {
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare)) return Promise.resolve(bare);
  return new Promise((resolve, reject) => {
    lookup(bare, family ? { family } : {}, (error, address) => {
      if (error) reject(error);
      else if (typeof address === 'string') resolve(address);
      else if (address[0]) resolve(address[0].address);
      else reject(Object.assign(new Error(`no address for ${bare}`), { code: 'ENOTFOUND' }));
    });
  });
}

/** `promise`, or the signal's reason as soon as it aborts. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

interface ConnectOptions {
  host?: string | null;
  port?: number | string | null;
  lookup?: Lookup;
}

/**
 * The CONNECT step of hpagent's agents, under the tunnel deadline: the CONNECT request gets a
 * signal (hpagent spreads `proxyRequestOptions` into it) that destroys it on the deadline or on
 * `destroy()`. With `pin`, the CONNECT target is the checked address of the name.
 */
function connectThroughHttpProxy(
  agent: { proxyRequestOptions: Record<string, unknown> },
  tunnels: PendingTunnels,
  pin: boolean,
  options: ConnectOptions,
  callback: ConnectCallback,
  create: (options: ConnectOptions, callback: ConnectCallback) => void,
): void {
  const { signal, settle } = tunnels.begin();
  let called = false;
  const done: ConnectCallback = (error, socket) => {
    if (called) return void socket?.destroy();
    called = true;
    signal.removeEventListener('abort', onAbort);
    if (!settle()) {
      socket?.destroy();
      return callback(signal.reason as Error, null);
    }
    callback(error, socket);
  };
  // The deadline answers at once; the CONNECT request (same signal) is destroyed alongside.
  const onAbort = () => done(signal.reason as Error, null);
  signal.addEventListener('abort', onAbort, { once: true });
  const open = (target: ConnectOptions) => {
    if (called) return;
    const saved = agent.proxyRequestOptions;
    agent.proxyRequestOptions = { ...saved, signal };
    try {
      create(target, done);
    } catch (error) {
      done(error as Error, null);
    } finally {
      agent.proxyRequestOptions = saved;
    }
  };
  if (!pin || !options.host) {
    open(options);
    return;
  }
  resolveOnce(options.lookup ?? (dns.lookup as Lookup), options.host).then(
    (address) => open({ ...options, host: address }),
    (error: Error) => done(error, null),
  );
}

type HpagentInternals = { proxyRequestOptions: Record<string, unknown> };

export class DeadlineHttpProxyAgent extends HttpProxyAgent {
  readonly #tunnels: PendingTunnels;
  readonly #pin: boolean;

  constructor(options: HttpProxyAgentOptions & { proxy: string }, settings: ProxyConnectSettings) {
    super(options);
    this.#tunnels = new PendingTunnels(options.proxy, settings.timeoutMs);
    this.#pin = settings.pin;
  }

  override createConnection(options: http.ClientRequestArgs, callback?: NodeConnectCallback): undefined {
    connectThroughHttpProxy(
      this as unknown as HpagentInternals,
      this.#tunnels,
      this.#pin,
      options as ConnectOptions,
      (callback ?? (() => {})) as ConnectCallback,
      (target, cb) => super.createConnection(target as http.ClientRequestArgs, cb as never),
    );
    return undefined;
  }

  override destroy(): void {
    this.#tunnels.destroyAll();
    super.destroy();
  }
}

export class DeadlineHttpsProxyAgent extends HttpsProxyAgent {
  readonly #tunnels: PendingTunnels;
  readonly #pin: boolean;

  constructor(options: HttpProxyAgentOptions & { proxy: string }, settings: ProxyConnectSettings) {
    super(options);
    this.#tunnels = new PendingTunnels(options.proxy, settings.timeoutMs);
    this.#pin = settings.pin;
  }

  override createConnection(options: http.ClientRequestArgs, callback?: NodeConnectCallback): undefined {
    connectThroughHttpProxy(
      this as unknown as HpagentInternals,
      this.#tunnels,
      this.#pin,
      options as ConnectOptions,
      (callback ?? (() => {})) as ConnectCallback,
      (target, cb) => super.createConnection(target as http.ClientRequestArgs, cb as never),
    );
    return undefined;
  }

  override destroy(): void {
    this.#tunnels.destroyAll();
    super.destroy();
  }
}
