import { lookup, Resolver } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** Names resolved to spot fake-IP DNS; public, stable, and in the media path of chat bots. */
export const FAKE_IP_PROBE_NAMES: readonly string[] = [
  'multimedia.nt.qq.com.cn',
  'www.qq.com',
  'www.baidu.com',
];

/** mihomo defaults to 198.18.0.1/16, sing-box to 198.18.0.0/15; IPv6 fc00::/18. */
export const FAKE_IP_RANGES: readonly string[] = ['198.18.0.0/15', 'fc00::/18'];

export interface FakeIpReport {
  /**
   * An answer fell in a fake-IP range (198.18.0.0/15 is reserved for benchmarks and never a real
   * answer, so one is enough: mihomo's `fake-ip-filter` often hands real answers to some names,
   * e.g. `geosite:cn`, while every other name gets a fake one). null: no answer at all.
   */
  active: boolean | null;
  /** name → answers (or the error). */
  samples: Array<{ name: string; addresses: string[]; error?: string }>;
  reason: string;
}

export interface FakeIpProbe {
  names?: readonly string[];
  /** DNS servers to ask (`127.0.0.1:5353`); default: the system's. */
  servers?: readonly string[];
  /** Extra fake-IP ranges (CIDR) besides the defaults. */
  ranges?: readonly string[];
  timeoutMs?: number;
  /**
   * `dns`: ask DNS servers directly (default; `servers` or the system's). `system`: the OS
   * resolver (getaddrinfo: hosts file, then DNS), which is what a connection would use.
   */
  via?: 'dns' | 'system';
}

function rangeList(ranges: readonly string[]): BlockList {
  const list = new BlockList();
  for (const range of ranges) {
    const [net, bits] = range.split('/') as [string, string | undefined];
    const family = isIP(net);
    if (!family) continue;
    list.addSubnet(net, Number(bits ?? (family === 4 ? 32 : 128)), family === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

/** Resolve a few names and report fake-IP when every answer lands in a fake-IP range. Never throws. */
export async function detectFakeIp(probe: FakeIpProbe = {}): Promise<FakeIpReport> {
  const names = probe.names ?? FAKE_IP_PROBE_NAMES;
  const list = rangeList([...FAKE_IP_RANGES, ...(probe.ranges ?? [])]);
  const timeoutMs = probe.timeoutMs ?? 1_500;
  const resolver = new Resolver({ timeout: Math.max(100, Math.floor(timeoutMs / 2)), tries: 1 });
  const answers = async (name: string): Promise<{ addresses: string[]; error?: string }> => {
    if (isIP(name)) return { addresses: [name] };
    if (probe.via === 'system') {
      const found = await lookup(name, { all: true }).catch((e: NodeJS.ErrnoException) => e);
      return found instanceof Error
        ? { addresses: [], error: String(found.code ?? found.message) }
        : { addresses: found.map((a) => a.address) };
    }
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
    const addresses = [
      ...(v4.status === 'fulfilled' ? v4.value : []),
      ...(v6.status === 'fulfilled' ? v6.value : []),
    ];
    const error =
      v4.status === 'rejected' ? String((v4.reason as NodeJS.ErrnoException).code ?? v4.reason) : undefined;
    return { addresses, ...(addresses.length === 0 && error ? { error } : {}) };
  };
  try {
    if (probe.servers?.length) resolver.setServers([...probe.servers]);
  } catch (error) {
    return { active: null, samples: [], reason: `bad DNS server: ${(error as Error).message}` };
  }
  const timer = setTimeout(() => resolver.cancel(), timeoutMs);
  try {
    const all = Promise.all(names.map(async (name) => ({ name, ...(await answers(name)) })));
    // getaddrinfo cannot be cancelled: bound the wait itself.
    const late = new Promise<null>((resolve) => setTimeout(() => resolve(null), timeoutMs + 100).unref());
    const samples = await Promise.race([all, late]);
    if (!samples) return { active: null, samples: [], reason: `no DNS answer within ${timeoutMs} ms` };
    const answered = samples.filter((s) => s.addresses.length > 0);
    if (answered.length === 0)
      return { active: null, samples, reason: 'no DNS answers (offline or blocked)' };
    const fake = (a: string) => {
      const family = isIP(a);
      return family !== 0 && list.check(a, family === 4 ? 'ipv4' : 'ipv6');
    };
    const faked = answered.filter((s) => s.addresses.some(fake)).map((s) => s.name);
    const ranges = [...FAKE_IP_RANGES, ...(probe.ranges ?? [])].join(', ');
    const real = answered.filter((s) => !faked.includes(s.name)).map((s) => s.name);
    return {
      active: faked.length > 0,
      samples,
      reason:
        faked.length === 0
          ? 'answers are real addresses'
          : real.length === 0
            ? `every answer is in a fake-IP range (${ranges})`
            : `${faked.join(', ')} answered in a fake-IP range (${ranges}); ${real.join(', ')} answered real addresses (a fake-IP filter)`,
    };
  } finally {
    clearTimeout(timer);
  }
}
