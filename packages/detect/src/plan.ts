import { hostMatches, STAGES, type Stage, type StrategyInfo } from '@detour/core';
import type { EnvironmentReport } from './report.js';

export interface PlanOptions {
  /** The caller's own order (names not registered are dropped); replaces the planned order. */
  order?: readonly string[];
  /** Names to leave out. */
  exclude?: readonly string[];
  /**
   * `false`: never plan a strategy that goes around the route (stage `route`, e.g. `direct-bypass`),
   * even when the proxy in the way fails (`--no-bypass`). Default: planned when a proxy is in the way.
   */
  bypass?: boolean;
  /**
   * Hosts opted in to plaintext strategies (`plaintext: true`, e.g. `http-downgrade`):
   * `multimedia.nt.qq.com.cn`, `*.qpic.cn` (core's host patterns). When given, such a strategy is
   * planned only for a `url` whose host matches; when absent, registering it is the opt-in (it
   * checks its own host list anyway).
   */
  downgradeHosts?: readonly string[];
  /** The URL being planned for (the pipeline passes it); used by `downgradeHosts`. */
  url?: URL | string;
}

export interface Plan {
  /** Strategy names, in the order the pipeline tries them. */
  plan: string[];
  /** Why each registered strategy is where it is, or why it is left out. */
  reasons: Record<string, string>;
}

/** The stage of a strategy that did not say: after the built-in relaxations, before the last resort. */
export const DEFAULT_STAGE: Stage = 'fallback';

/** Whether traffic is captured by a TUN device or fake-IP DNS whatever the route. */
export function captured(report: Pick<EnvironmentReport, 'tun' | 'fakeIp'>): boolean {
  return report.tun.active || report.fakeIp.active === true;
}

export function proxyInTheWay(report: Pick<EnvironmentReport, 'proxy'>): boolean {
  const p = report.proxy;
  return p.source !== 'none' && !!(p.http || p.https || p.socks);
}

function hostOf(url: URL | string | undefined): string | null {
  if (url === undefined) return null;
  try {
    return new URL(String(url)).hostname;
  } catch {
    return null;
  }
}

type Report = Pick<EnvironmentReport, 'proxy' | 'tun' | 'fakeIp'>;

/** A name alone says nothing about itself: it plans as a custom strategy would. */
function described(entry: string | StrategyInfo): StrategyInfo {
  return typeof entry === 'string' ? { name: entry } : entry;
}

/**
 * Why a strategy of this stage is planned here, or `{ out }` with why it is left out. Decided by
 * what the strategy says about itself (stage, plaintext) and the environment, never by its name.
 */
function placement(
  info: StrategyInfo,
  report: Report,
  options: PlanOptions,
): { why: string } | { out: string } {
  const stage = info.stage ?? DEFAULT_STAGE;
  const proxy = proxyInTheWay(report);
  if (stage === 'strict') {
    const via = report.proxy.https ?? report.proxy.http ?? report.proxy.socks;
    const reason = info.reason ?? 'strict';
    return { why: proxy ? `${reason} through the ${report.proxy.source} proxy ${via}` : `${reason}, direct` };
  }
  if (stage === 'route') {
    if (options.bypass === false) return { out: 'bypass: false (--no-bypass): never around the proxy' };
    // Another route helps only around a proxy, and not when a TUN device or fake-IP DNS captures
    // the "direct" connection too.
    if (!proxy) return { out: 'no proxy in the way: nothing to bypass' };
    if (captured(report)) {
      const by = report.tun.active ? 'TUN' : 'fake-IP DNS';
      return { out: `${by} is active: a bypass is captured too, it cannot help` };
    }
  }
  if (info.plaintext && options.downgradeHosts) {
    const host = hostOf(options.url);
    if (!host) return { out: 'downgradeHosts given but no URL to plan for' };
    if (!hostMatches(host, options.downgradeHosts)) {
      return {
        out: `${host} is not opted in to plain HTTP (downgradeHosts: ${options.downgradeHosts.join(', ') || 'none'})`,
      };
    }
    return { why: `plain HTTP: ${host} is opted in (${options.downgradeHosts.join(', ')})` };
  }
  return { why: info.reason ?? `no stage given: planned as ${DEFAULT_STAGE}, in registration order` };
}

/**
 * The strategy order for an environment (pure), by stage: `strict` (through the route the
 * environment chose), `route` (around the proxy: only with a proxy in the way and nothing capturing
 * traffic — under TUN or fake-IP DNS a bypass is captured too), `relaxed`, `fallback` (a strategy
 * that says nothing about itself lands here), `last-resort`. Within a stage, registration order.
 * Plaintext strategies follow `downgradeHosts`. Entries may be bare names (planned as `fallback`).
 */
export function plan(
  report: Report,
  registered: readonly (string | StrategyInfo)[],
  options: PlanOptions = {},
): Plan {
  const infos = registered.map(described);
  const reasons: Record<string, string> = {};
  const excluded = new Set(options.exclude ?? []);
  if (options.order) {
    const available = new Set(infos.map((i) => i.name));
    const order = options.order.filter((n) => available.has(n) && !excluded.has(n));
    for (const { name } of infos)
      reasons[name] = order.includes(name) ? "the caller's order" : "left out by the caller's order";
    return { plan: order, reasons };
  }
  const rank = (info: StrategyInfo) => STAGES.indexOf(info.stage ?? DEFAULT_STAGE);
  const order: string[] = [];
  // Array.prototype.sort is stable: within a stage, registration order stays.
  for (const info of [...infos].sort((a, b) => rank(a) - rank(b))) {
    if (excluded.has(info.name)) {
      reasons[info.name] = 'excluded by the caller';
      continue;
    }
    const placed = placement(info, report, options);
    if ('out' in placed) {
      reasons[info.name] = placed.out;
      continue;
    }
    order.push(info.name);
    reasons[info.name] = placed.why;
  }
  return { plan: order, reasons };
}
