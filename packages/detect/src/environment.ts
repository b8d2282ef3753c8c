import {
  DIRECT,
  type EnvironmentProvider,
  type Route,
  routeFromProxyUrl,
  type StrategyInfo,
} from '@detour/core/internal';
import { captured, type Plan, type PlanOptions, plan } from './plan.js';
import { matchesNoProxy, parseNoProxy, proxyForUrl } from './proxy-env.js';
import { type DetectOptions, type EnvironmentReport, type Sniffed, sniff } from './report.js';
import { type ReuseOptions, readReusable, reuseKey, saveReusable } from './reuse.js';
import type { SystemProxy } from './system-proxy/types.js';

export interface EnvironmentOptions extends DetectOptions, PlanOptions {
  /** Detect again this often (ms) so route memory notices a proxy or TUN switched on or off. 0: never. */
  refreshMs?: number;
  /**
   * Reuse a recent detection kept in this file (see `ReuseOptions`: 60 s by default, and only
   * while the proxy variables, default route, resolver and interfaces are unchanged), and keep
   * this one there. Not with injected probes (`run`, `readText`, `interfaces`). `refresh()`
   * always detects.
   */
  reuse?: ReuseOptions;
}

/** OS bypass lists: `<local>` (plain names), `*.local`, `127.*`, `169.254/16`, hosts. */
function systemBypasses(host: string, port: number, bypass: readonly string[]): boolean {
  const name = host.toLowerCase();
  for (const raw of bypass) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '<local>') {
      if (!name.includes('.') && !name.includes(':')) return true;
      continue;
    }
    if (entry.includes('*')) {
      const pattern = new RegExp(`^${entry.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`);
      if (pattern.test(name)) return true;
      continue;
    }
    const cidr = /^(\d+(?:\.\d+){0,3})\/(\d+)$/.exec(entry);
    const normalized = cidr
      ? `${[...cidr[1]!.split('.'), '0', '0', '0'].slice(0, 4).join('.')}/${cidr[2]}`
      : entry;
    if (matchesNoProxy(name, port, parseNoProxy(normalized))) return true;
  }
  return false;
}

function systemRoute(url: URL, system: SystemProxy): Route {
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  if (systemBypasses(url.hostname.replace(/^\[|\]$/g, ''), port, system.bypass)) return DIRECT;
  const proxy = (url.protocol === 'https:' ? system.https : system.http) ?? system.socks;
  return proxy ? routeFromProxyUrl(proxy) : DIRECT;
}

/**
 * The pipeline's view of the environment, from a detection: the route for each URL (explicit
 * option, then env with curl's NO_PROXY rules, then OS settings), the plan, and a fingerprint that
 * changes when the proxy, TUN or fake-IP state changes.
 */
export class DetectedEnvironment implements EnvironmentProvider {
  #sniffed: Sniffed;
  readonly #options: EnvironmentOptions;
  #timer: NodeJS.Timeout | undefined;
  /** When the detection in use was made, if it was reused from `options.reuse` (ms since the epoch). */
  reusedFrom: number | undefined;

  constructor(sniffed: Sniffed, options: EnvironmentOptions = {}, reusedFrom?: number) {
    this.#sniffed = sniffed;
    this.reusedFrom = reusedFrom;
    this.#options = options;
    if (options.refreshMs && options.refreshMs > 0) {
      this.#timer = setInterval(() => void this.refresh(), options.refreshMs);
      this.#timer.unref();
    }
  }

  get report(): EnvironmentReport {
    return this.#sniffed.report;
  }

  routeFor(url: URL): Route {
    const { option, env, system, report } = this.#sniffed;
    if (typeof option === 'string') return routeFromProxyUrl(option);
    if (option === false) return DIRECT;
    if (report.proxy.source === 'env') {
      const proxy = proxyForUrl(url, env);
      return proxy ? routeFromProxyUrl(proxy) : DIRECT;
    }
    if (report.proxy.source === 'system' && system) return systemRoute(url, system);
    return DIRECT;
  }

  plan(registered: readonly string[], url?: URL, described?: readonly StrategyInfo[]): string[] {
    return this.describePlan(described ?? registered, url).plan;
  }

  /**
   * The plan with its reasons, from the strategies' descriptions (`stage`, `reason`; bare names
   * plan as custom strategies); `url` lets `downgradeHosts` decide about plaintext strategies.
   */
  describePlan(registered: readonly (string | StrategyInfo)[], url?: URL | string): Plan {
    return plan(
      this.#sniffed.report,
      registered,
      url === undefined ? this.#options : { ...this.#options, url },
    );
  }

  fingerprint(): string {
    const r = this.#sniffed.report;
    const proxy =
      r.proxy.source === 'none'
        ? 'none'
        : `${r.proxy.source}:${r.proxy.https ?? r.proxy.http ?? r.proxy.socks}`;
    return `proxy=${proxy}|tun=${r.tun.active ? (r.tun.defaultRoute ?? 'on') : 'off'}|fakeip=${r.fakeIp.active ? 'on' : 'off'}|captured=${captured(r)}`;
  }

  /** Detect again (e.g. after the user switched their accelerator on or off). */
  async refresh(): Promise<EnvironmentReport> {
    this.#sniffed = await sniff(this.#options);
    this.reusedFrom = undefined;
    return this.#sniffed.report;
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
  }
}

/** Detect the environment and wrap it for the pipeline: `createPipeline({ environment: await createEnvironment() })`. */
export async function createEnvironment(options: EnvironmentOptions = {}): Promise<DetectedEnvironment> {
  const reuse = options.reuse;
  if (!reuse || options.run || options.readText || options.interfaces) {
    return new DetectedEnvironment(await sniff(options), options);
  }
  const env = options.env ?? process.env;
  const key = reuseKey({
    env,
    proxy: options.proxy,
    platform: options.platform ?? process.platform,
    detection: [options.fakeIp ?? null, options.probePorts ?? null, options.timeoutMs ?? null],
  });
  const saved = readReusable(reuse, key);
  if (saved) {
    const sniffed: Sniffed = { report: saved.report, env, option: options.proxy, system: saved.system };
    return new DetectedEnvironment(sniffed, options, saved.savedAt);
  }
  const sniffed = await sniff(options);
  await saveReusable(reuse, key, sniffed);
  return new DetectedEnvironment(sniffed, options);
}
