/** Debian `dnsmasq` as a DNS server on 127.0.0.1 that answers every name with fixed addresses (fake-IP style). */
import { startChild } from './child.js';

export interface RunningDns {
  /** `127.0.0.1:PORT`, for `Resolver.setServers` or `--dns-server`. */
  readonly server: string;
  readonly port: number;
  readonly pid: number;
  close(): Promise<void>;
}

/**
 * `answers`: the A/AAAA records returned for EVERY name (`--address=/#/…`), e.g. `198.18.0.7` to
 * play mihomo's fake-IP DNS. No upstream (`--no-resolv`), no hosts file: it never forwards a query.
 */
export async function startDnsmasq(
  answers: readonly string[],
  /** Per-domain answers that win over `answers` (`{ 'qq.com': '93.184.216.34' }`, like mihomo's fake-ip-filter). */
  domains: Readonly<Record<string, string>> = {},
): Promise<RunningDns> {
  const running = await startChild({
    bin: 'dnsmasq',
    pkg: 'dnsmasq',
    args: (port) => [
      '--keep-in-foreground',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      '--no-poll',
      '--bind-interfaces',
      '--listen-address=127.0.0.1',
      `--port=${port}`,
      '--pid-file=',
      '--user=root',
      ...Object.entries(domains).map(([domain, address]) => `--address=/${domain}/${address}`),
      ...answers.map((a) => `--address=/#/${a}`),
    ],
  });
  return {
    server: `127.0.0.1:${running.port}`,
    port: running.port,
    pid: running.child.pid ?? -1,
    close: () => running.close(),
  };
}
