import { proxyValueProblem } from '@detour/detect';
import { type DetectAnswer, describeStrategies, detectAnswer, detectEnvironment } from 'detour';
import { parse } from '../args.js';
import { detourOptions } from '../build-pipeline.js';
import { DETECT } from '../definitions.js';
import { type CliIo, EXIT_OK, parseList, UsageError, write } from '../io.js';
import { table } from '../table.js';

/** `detour detect`: the environment report and the plan the CLI would use. */
export async function runDetect(argv: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parse(DETECT, argv);
  if (positionals.length) throw new UsageError('detect takes no arguments (see detour detect --help)');
  const servers = dnsServers(flags.strings('dns-server'));
  const proxy = flags.string('proxy');
  if (proxy && flags.bool('no-proxy')) throw new UsageError('--proxy and --no-proxy exclude each other');
  const problem = proxy === undefined ? undefined : proxyValueProblem(proxy);
  if (problem) throw new UsageError(`--proxy ${problem}`);
  // The same options `detour serve` builds from the same flags, and the same function answers.
  const options = detourOptions(
    {
      proxy,
      noProxy: flags.bool('no-proxy'),
      noBypass: flags.bool('no-bypass'),
      strategies: parseList(flags.string('strategies')),
      allowDowngrade: parseList(flags.strings('allow-downgrade')),
      placeholder: flags.bool('placeholder'),
    },
    io.env,
  );
  const known = describeStrategies(options).map((s) => s.name);
  const unknown = (options.strategies ?? []).filter((name) => !known.includes(name));
  if (unknown.length) {
    throw new UsageError(`unknown strategy ${unknown.join(', ')} (registered: ${known.join(', ')})`);
  }
  if (options.bypass === false && options.strategies?.includes('direct-bypass')) {
    throw new UsageError('--no-bypass forbids direct-bypass, which --strategies names');
  }
  const environment = await detectEnvironment({
    ...options,
    detect: { probePorts: !!flags.bool('probe-ports'), ...(servers.length ? { fakeIp: { servers } } : {}) },
  });
  const report = detectAnswer(environment, options);
  environment.close();
  write(io.stdout, flags.bool('json') ? JSON.stringify(report) : human(report));
  return EXIT_OK;
}

function human(report: DetectAnswer): string {
  const p = report.proxy;
  const sys = report.systemProxy;
  const rows: string[][] = [
    [
      'proxy',
      p.source === 'none'
        ? 'none'
        : `${p.source}: http ${p.http ?? '-'}, https ${p.https ?? '-'}, socks ${p.socks ?? '-'}`,
    ],
    ['no_proxy', p.noProxy ?? '-'],
    [
      'system proxy',
      sys.found
        ? `${sys.source}: ${sys.enabled ? `on (${sys.https ?? sys.http ?? sys.socks ?? sys.pacUrl})` : 'off'}`
        : `unknown (${sys.reason})`,
    ],
    ['PAC', report.pac.url ?? '-'],
    [
      'TUN',
      `${report.tun.active ? 'ACTIVE' : 'no'}${report.tun.interface ? ` (${report.tun.interface})` : ''}: ${report.tun.reason}`,
    ],
    [
      'fake-IP DNS',
      `${report.fakeIp.active === null ? 'unknown' : report.fakeIp.active ? 'ACTIVE' : 'no'}: ${report.fakeIp.reason}`,
    ],
    [
      'local proxies',
      report.localProxies === null
        ? 'not probed (--probe-ports)'
        : report.localProxies
            .map((l) => `${l.url} ${l.protocols.join('+')}${l.tool ? ` (${l.tool})` : ''}`)
            .join(', ') || 'none found',
    ],
  ];
  const plan = table(
    ['#', 'strategy', 'why'],
    Object.entries(report.reasons)
      .map(([name, why]) => {
        const at = report.plan.indexOf(name);
        return [at < 0 ? '-' : String(at + 1), name, why];
      })
      .sort((a, b) => (a[0] === '-' ? 1 : b[0] === '-' ? -1 : Number(a[0]) - Number(b[0]))),
  );
  for (const warning of report.warnings) rows.push(['warning', warning]);
  return `${table(['environment', ''], rows)}\n\nplan: ${report.plan.join(' → ')}\n${plan}`;
}

/** `--dns-server` values: IP addresses with an optional port. */
export function dnsServers(values: string[] | undefined): string[] {
  const servers = values ?? [];
  for (const server of servers) {
    if (!/^(\[[0-9a-f:]+\]|[0-9.]+|[0-9a-f:]+)(:\d{1,5})?$/i.test(server)) {
      throw new UsageError(
        `--dns-server takes an IP address with an optional port, got ${JSON.stringify(server)}`,
      );
    }
  }
  return servers;
}
