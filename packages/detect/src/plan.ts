import { hostMatches, STRATEGY_NAMES } from '@detour/core';
import type { EnvironmentReport } from './report.js';

/** The built-in order, strictest first (core's list of shipped strategy names). */
export const DEFAULT_ORDER: readonly string[] = STRATEGY_NAMES;

export interface PlanOptions {
  /** The caller's own order (names not registered are dropped); replaces the planned order. */
  order?: readonly string[];
  /** Names to leave out. */
  exclude?: readonly string[];
  /**
   * Hosts opted in to `http-downgrade` (`multimedia.nt.qq.com.cn`, `*.qpic.cn`: core's host
   * patterns). When given, `http-downgrade` is planned only for a `url` whose host matches; when
   * absent, registering the strategy is the opt-in (it checks its own host list anyway).
   */
  downgradeHosts?: readonly string[];
  /** The URL being planned for (the pipeline passes it); used by `downgradeHosts`. */
  url?: URL | string;
}

function hostOf(url: URL | string | undefined): string | null {
  if (url === undefined) return null;
  try {
    return new URL(String(url)).hostname;
  } catch {
    return null;
  }
}

export interface Plan {
  /** Strategy names, in the order the pipeline tries them. */
  plan: string[];
  /** Why each registered strategy is where it is, or why it is left out. */
  reasons: Record<string, string>;
}

/** Whether traffic is captured by a TUN device or fake-IP DNS whatever the route. */
export function captured(report: Pick<EnvironmentReport, 'tun' | 'fakeIp'>): boolean {
  return report.tun.active || report.fakeIp.active === true;
}

export function proxyInTheWay(report: Pick<EnvironmentReport, 'proxy'>): boolean {
  const p = report.proxy;
  return p.source !== 'none' && !!(p.http || p.https || p.socks);
}

/** Why http-downgrade is planned, or null when `downgradeHosts` leaves this URL's host out. */
function downgradeWhy(options: PlanOptions): string | null {
  if (!options.downgradeHosts) return 'plain HTTP, only for the hosts the caller opted in';
  const host = hostOf(options.url);
  return host && hostMatches(host, options.downgradeHosts)
    ? `plain HTTP: ${host} is opted in (${options.downgradeHosts.join(', ')})`
    : null;
}

/**
 * The strategy order for an environment (pure). With a proxy in the way: strict through the proxy,
 * then the same request bypassing the proxy (the "DIRECT rule" fix), then tls-relaxed, curl,
 * http-downgrade (only hosts the caller opted in), placeholder (only when enabled). Under TUN or
 * fake-IP the bypass cannot help (the TUN device captures the "direct" connection too) and is left out.
 * Custom strategies follow the built-ins in registration order, before the placeholder.
 */
export function plan(
  report: Pick<EnvironmentReport, 'proxy' | 'tun' | 'fakeIp'>,
  registered: readonly string[],
  options: PlanOptions = {},
): Plan {
  const reasons: Record<string, string> = {};
  const available = new Set(registered);
  const excluded = new Set(options.exclude ?? []);
  if (options.order) {
    const order = options.order.filter((n) => available.has(n) && !excluded.has(n));
    for (const name of registered)
      reasons[name] = order.includes(name) ? "the caller's order" : "left out by the caller's order";
    return { plan: order, reasons };
  }
  const proxy = proxyInTheWay(report);
  const tunOrFake = captured(report);
  const via = proxy ? (report.proxy.https ?? report.proxy.http ?? report.proxy.socks) : null;
  const why: Record<string, string | null> = {
    direct: proxy ? `strict TLS through the ${report.proxy.source} proxy ${via}` : 'strict TLS, direct',
    'direct-bypass': !proxy
      ? null
      : tunOrFake
        ? null
        : 'same strict request around the proxy, for the host only (the "DIRECT rule" fix)',
    'tls-relaxed': 'legacy TLS (old versions, ciphers, renegotiation); certificates still checked',
    curl: "curl's own TLS and proxy stack, same route and limits",
    'http-downgrade': downgradeWhy(options),
    placeholder: 'last resort, enabled by the caller: a stand-in image marked degraded',
  };
  const order: string[] = [];
  for (const name of DEFAULT_ORDER) {
    if (!available.has(name)) continue;
    if (excluded.has(name)) {
      reasons[name] = 'excluded by the caller';
      continue;
    }
    const reason = why[name];
    if (reason === null && name === 'http-downgrade') {
      const host = hostOf(options.url);
      reasons[name] = host
        ? `${host} is not opted in to plain HTTP (downgradeHosts: ${options.downgradeHosts?.join(', ') || 'none'})`
        : 'downgradeHosts given but no URL to plan for';
      continue;
    }
    if (reason === null) {
      reasons[name] = !proxy
        ? 'no proxy in the way: nothing to bypass'
        : `${report.tun.active ? 'TUN' : 'fake-IP DNS'} is active: a bypass is captured too, it cannot help`;
      continue;
    }
    order.push(name);
    reasons[name] = reason!;
  }
  // Custom strategies go after the built-ins, but before the last resort.
  const last = order.at(-1) === 'placeholder' ? order.pop() : undefined;
  for (const name of registered) {
    if (DEFAULT_ORDER.includes(name)) continue;
    if (excluded.has(name)) {
      reasons[name] = 'excluded by the caller';
      continue;
    }
    order.push(name);
    reasons[name] = 'custom strategy, after the built-ins';
  }
  if (last) order.push(last);
  return { plan: order, reasons };
}
