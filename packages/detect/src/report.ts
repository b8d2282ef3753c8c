import { detectFakeIp, type FakeIpProbe, type FakeIpReport } from './fake-ip.js';
import { type LocalProxy, type LocalProxyProbe, probeLocalProxies } from './local-proxies.js';
import { type PacReport, pacFrom } from './pac.js';
import { type Env, envProxySettings, proxyEnvWarnings } from './proxy-env.js';
import type { ReadText, RunCommand } from './run-command.js';
import { detectSystemProxy, type SystemProxy } from './system-proxy/index.js';
import { detectTun, type InterfaceInfo, type TunReport } from './tun.js';

/** Where the proxy in effect comes from. */
export type ProxySource = 'option' | 'env' | 'system' | 'none';

export interface ProxyReport {
  http: string | null;
  https: string | null;
  socks: string | null;
  noProxy: string | null;
  source: ProxySource;
}

/** A description of the network this process runs in. Field names are a contract (`detour detect --json`). */
export interface EnvironmentReport {
  proxy: ProxyReport;
  systemProxy: (SystemProxy & { found: true }) | { found: false; reason: string };
  tun: TunReport;
  fakeIp: FakeIpReport;
  localProxies: LocalProxy[] | null;
  pac: PacReport;
  platform: NodeJS.Platform;
  /**
   * What detection had to ignore and the user should hear about: a proxy variable that is not a
   * proxy URL (`HTTPS_PROXY='not a proxy'`, an unsupported scheme). Empty when all is well.
   */
  warnings: string[];
}

export interface DetectOptions {
  /** The process environment (never read from `process.env` deep inside). Default: `process.env`. */
  env?: Env;
  /** An explicit proxy (wins over env and system), or `false` for none. */
  proxy?: string | false;
  platform?: NodeJS.Platform;
  run?: RunCommand;
  readText?: ReadText;
  interfaces?: () => InterfaceInfo[];
  /** Fake-IP probe settings, or `false` to skip it (reported as unknown). */
  fakeIp?: FakeIpProbe | false;
  /** Probe local proxy ports (off by default). */
  probePorts?: boolean | LocalProxyProbe;
  /** Bound for each probe. */
  timeoutMs?: number;
}

/** Mask a password in a proxy URL: reports are printed and logged. */
export function maskProxy(url: string | null): string | null {
  if (!url) return url;
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/**
 * Sniff the environment: env proxies (curl's rules), OS proxy settings, TUN, fake-IP DNS,
 * optionally local proxy ports. Every probe is bounded and never throws: an unknown is reported
 * with its reason. Precedence for the proxy in effect: explicit option, then env, then system.
 */
export async function detect(options: DetectOptions = {}): Promise<EnvironmentReport> {
  return (await sniff(options)).report;
}

/** The report, and the unmasked proxy settings it was made from (for routing, never for printing). */
export interface Sniffed {
  report: EnvironmentReport;
  env: Env;
  option: string | false | undefined;
  system: SystemProxy | null;
}

type SystemFound = Awaited<ReturnType<typeof detectSystemProxy>>;

/**
 * The proxy Detour will use, by precedence: the option, then the environment, then an enabled
 * system proxy (not itself read from the environment), else none. Credentials are masked.
 */
function effectiveProxy(option: string | false | undefined, env: Env, system: SystemFound): ProxyReport {
  const fromEnv = envProxySettings(env);
  let proxy: ProxyReport;
  if (option !== undefined) {
    const value = option === false ? null : option;
    proxy = {
      http: value,
      https: value,
      socks: value && /^socks/i.test(value) ? value : null,
      noProxy: fromEnv.noProxy,
      source: value ? 'option' : 'none',
    };
  } else if (fromEnv.http || fromEnv.https || fromEnv.socks) {
    proxy = { ...fromEnv, source: 'env' };
  } else if (system.found && system.settings.enabled && !system.settings.fromEnvironment) {
    const s = system.settings;
    proxy = {
      http: s.http ?? s.socks,
      https: s.https ?? s.http ?? s.socks,
      socks: s.socks,
      noProxy: s.bypass.join(',') || null,
      source: 'system',
    };
  } else {
    proxy = { http: null, https: null, socks: null, noProxy: fromEnv.noProxy, source: 'none' };
  }
  return {
    ...proxy,
    http: maskProxy(proxy.http),
    https: maskProxy(proxy.https),
    socks: maskProxy(proxy.socks),
  };
}

export async function sniff(options: DetectOptions = {}): Promise<Sniffed> {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const timeoutMs = options.timeoutMs ?? 2_000;
  const [system, tun, fakeIp, localProxies] = await Promise.all([
    detectSystemProxy({
      platform,
      env,
      timeoutMs,
      ...(options.run ? { run: options.run } : {}),
      ...(options.readText ? { readText: options.readText } : {}),
    }),
    detectTun({
      platform,
      timeoutMs,
      ...(options.run ? { run: options.run } : {}),
      ...(options.readText ? { readText: options.readText } : {}),
      ...(options.interfaces ? { interfaces: options.interfaces } : {}),
    }),
    options.fakeIp === false
      ? Promise.resolve<FakeIpReport>({ active: null, samples: [], reason: 'not probed' })
      : detectFakeIp({ timeoutMs, ...options.fakeIp }),
    options.probePorts
      ? probeLocalProxies(typeof options.probePorts === 'object' ? options.probePorts : {}).catch(() => [])
      : Promise.resolve(null),
  ]);
  const proxy = effectiveProxy(options.proxy, env, system);
  const report: EnvironmentReport = {
    proxy,
    systemProxy: system.found
      ? {
          found: true,
          ...system.settings,
          http: maskProxy(system.settings.http),
          https: maskProxy(system.settings.https),
          socks: maskProxy(system.settings.socks),
        }
      : system,
    tun,
    fakeIp,
    localProxies,
    pac: pacFrom(system.found ? system.settings : null),
    platform,
    warnings: proxyEnvWarnings(env),
  };
  return { report, env, option: options.proxy, system: system.found ? system.settings : null };
}
