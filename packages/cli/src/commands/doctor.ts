import {
  createPipeline,
  DetourError,
  describeRoute,
  type EnvironmentProvider,
  type ExpectKind,
  type FailureClass,
  type StrategyInfo,
} from '@detour/core/internal';
import { type DetourOptions, detectEnvironment, pipelineOptions } from 'detour';
import { parse } from '../args.js';
import { DOCTOR } from '../definitions.js';
import { type DoctorResult, diagnose, type ProxyDiagnosis, type Suggestion } from '../diagnose.js';
import { type CliIo, EXIT_FAILED, EXIT_OK, parseHttpUrl, UsageError, write } from '../io.js';
import { kitOptions } from '../kit-flags.js';
import { table } from '../table.js';
import { dnsServers } from './detect.js';
import { readCaFiles } from './fetch.js';

/** `detour doctor <url>`: every strategy alone, a verdict, and fixes. */
export async function runDoctor(argv: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parse(DOCTOR, argv);
  if (positionals.length === 0) throw new UsageError('doctor needs a URL (see detour doctor --help)');
  if (positionals.length !== 1)
    throw new UsageError('doctor takes exactly one URL (see detour doctor --help)');
  const url = parseHttpUrl(positionals[0]!);
  // The shared flags through the front-end kit (the same checks and words as fetch and serve).
  const kit = kitOptions(flags, DOCTOR);
  const expect = kit.expect ?? 'any';
  const timeoutMs = kit.timeoutMs ?? 8_000;
  const servers = dnsServers(flags.strings('dns-server'));
  const options: DetourOptions = {
    env: io.env,
    ...(kit.proxy !== undefined ? { proxy: kit.proxy } : kit.noProxy ? { proxy: false } : {}),
    allowPrivateNetwork: flags.bool('allow-private'),
    insecureHosts: kit.insecureHosts ?? [],
    allowDowngrade: kit.allowDowngrade ?? [],
    curlPath: flags.string('curl'),
    ca: readCaFiles(flags.strings('ca')),
  };
  const doctor = await doctorReport(url, options, { expect, timeoutMs, dnsServers: servers });
  if (flags.bool('json')) write(io.stdout, JSON.stringify(doctor.json));
  else write(io.stdout, human(url, doctor));
  return doctor.ok ? EXIT_OK : EXIT_FAILED;
}

/** What one doctor run found: the `--json` object, and the parts the human table shows. */
export interface DoctorRun {
  ok: boolean;
  route: string;
  report: Awaited<ReturnType<typeof detectEnvironment>>['report'];
  plan: string[];
  results: DoctorResult[];
  verdict: string;
  suggestions: Suggestion[];
  /** The proxy in the way and its state (`none`, `works`, `not-running`, `stuck`, …). */
  proxy: ProxyDiagnosis;
  /** `detour doctor --json`: `url`, `environment`, `proxy`, `results`, `verdict`, `suggestions`. */
  json: {
    url: string;
    environment: Record<string, unknown>;
    proxy: ProxyDiagnosis;
    results: Array<Omit<DoctorResult, 'message'>>;
    verdict: string;
    suggestions: Suggestion[];
  };
}

export interface DoctorSettings {
  expect?: ExpectKind;
  /** Each strategy's bound (default 8 s). */
  timeoutMs?: number;
  /** DNS servers for the fake-IP check (default: the system's). */
  dnsServers?: string[];
  /** Stops every strategy's try (a client that went away, a service shutting down). */
  signal?: AbortSignal;
}

/** The doctor's options: the caller's policy, each strategy alone (no memory, cache, circuit or placeholder). */
function aloneOptions(
  base: DetourOptions,
  timeoutMs: number,
  servers: string[],
  host: string,
): DetourOptions {
  return {
    ...base,
    logLevel: 'silent',
    timeoutMs,
    placeholder: false,
    // Alone means alone: nothing remembered, nothing cached, no circuit, no retries hiding a failure.
    cache: false,
    pipeline: { routeMemory: false, circuit: false, attemptTimeoutMs: timeoutMs },
    ...(servers.length
      ? { detect: { fakeIp: { servers, names: [host], timeoutMs: 1_500 } } }
      : { fakeIpNames: [host] }),
  };
}

/** The strategies a pipeline with these options would try, by name and described. */
async function strategiesOf(
  options: DetourOptions,
  shared: EnvironmentProvider,
): Promise<{ names: string[]; described: StrategyInfo[] }> {
  try {
    const probe = createPipeline(pipelineOptions(options, shared));
    const names = [...probe.strategyNames];
    const described = probe.describeStrategies();
    await probe.close();
    return { names, described };
  } catch (error) {
    if (error instanceof DetourError) throw new UsageError(error.message.split('\n')[0]!);
    throw error;
  }
}

/** The verdict over every strategy's result, the environment and the proxy variables. */
function diagnoseRun(
  report: Awaited<ReturnType<typeof detectEnvironment>>['report'],
  options: DetourOptions,
  host: string,
  route: string,
  results: DoctorResult[],
) {
  const sample = report.fakeIp.samples.find((s) => s.name === host);
  const fakeIpAnswers = report.fakeIp.active && sample ? sample.addresses.filter(isFakeIp) : [];
  return diagnose({
    host,
    route,
    proxySource:
      report.proxy.source === 'option' ? 'flag' : report.proxy.source === 'system' ? 'system' : 'env',
    proxyVariables: PROXY_VARIABLES.filter((name) => (options.env ?? process.env)[name]?.trim()),
    fakeIpAnswers,
    noProxy: report.proxy.noProxy,
    downgradeAllowed: (options.allowDowngrade?.length ?? 0) > 0,
    results,
  });
}

/**
 * `detour doctor` as a function (also behind `detour serve`'s `POST /v1/doctor`): every strategy
 * alone through its own pipeline (nothing remembered or cached, no circuit), a verdict, and fixes.
 * `options` gives the policy (proxy, private network, insecure hosts, downgrade, curl, CA);
 * whatever it says about cache, memory, placeholder or logging is replaced. Throws UsageError
 * when the environment cannot be detected or the pipeline not built.
 */
export async function doctorReport(
  url: URL,
  base: DetourOptions,
  settings: DoctorSettings = {},
): Promise<DoctorRun> {
  const expect = settings.expect ?? 'any';
  const timeoutMs = settings.timeoutMs ?? 8_000;
  const servers = settings.dnsServers ?? [];
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const options = aloneOptions(base, timeoutMs, servers, host);

  let environment: Awaited<ReturnType<typeof detectEnvironment>>;
  try {
    environment = await detectEnvironment(options);
  } catch (error) {
    if (error instanceof DetourError) throw new UsageError(error.message.split('\n')[0]!);
    throw error;
  }
  // One detection shared by every pipeline; closing a pipeline must not close it.
  const shared: EnvironmentProvider = {
    routeFor: (u) => environment.routeFor(u),
    plan: (registered, u, described) => environment.plan(registered, u, described),
    fingerprint: () => environment.fingerprint(),
  };
  try {
    const route = describeRoute(shared.routeFor(url));
    const { names, described } = await strategiesOf(options, shared);
    const results = await Promise.all(
      names.map((name) => tryAlone(name, url, options, shared, expect, route, settings.signal)),
    );
    const report = environment.report;
    const {
      proxy: proxyDiagnosis,
      verdict,
      suggestions,
    } = diagnoseRun(report, options, host, route, results);
    const { plan } = environment.describePlan(described, url);
    return {
      ok: results.some((r) => r.outcome === 'ok'),
      route,
      report,
      plan,
      results,
      verdict,
      suggestions,
      proxy: proxyDiagnosis,
      json: {
        url: url.toString(),
        environment: { ...report, route, plan },
        proxy: proxyDiagnosis,
        results: results.map(({ message: _message, ...r }) => r),
        verdict,
        suggestions,
      },
    };
  } finally {
    environment.close();
  }
}

/** The variables a proxy from the environment can come from (curl's). */
const PROXY_VARIABLES = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY', 'all_proxy', 'ALL_PROXY'];

const isFakeIp = (address: string) => /^198\.1[89]\./.test(address) || /^fc00:/i.test(address);

/** Run one strategy alone through its own pipeline; never throws for a failed download. */
async function tryAlone(
  name: string,
  url: URL,
  options: DetourOptions,
  environment: EnvironmentProvider,
  expect: ExpectKind,
  route: string,
  signal: AbortSignal | undefined,
): Promise<DoctorResult> {
  const pipeline = createPipeline(pipelineOptions({ ...options, strategies: [name] }, environment));
  const started = performance.now();
  try {
    const result = await pipeline.fetch(url.toString(), {
      expect,
      noCache: true,
      ...(signal ? { signal } : {}),
    });
    const attempt = result.attempts.findLast((a) => a.strategy === name);
    return {
      strategy: name,
      route: attempt?.route ?? route,
      outcome: 'ok',
      failureClass: null,
      code: null,
      ms: attempt?.ms ?? Math.round(performance.now() - started),
    };
  } catch (error) {
    if (!(error instanceof DetourError)) throw error;
    const attempt = error.attempts.findLast((a) => a.strategy === name);
    const skipped = attempt?.outcome === 'skipped';
    return {
      strategy: name,
      route: attempt?.route ?? route,
      outcome: skipped ? 'skipped' : 'failed',
      failureClass: skipped ? null : ((attempt?.failureClass ?? error.failureClass) as FailureClass),
      code: skipped ? null : (attempt?.code ?? error.code),
      ms: attempt?.ms ?? Math.round(performance.now() - started),
      message: attempt?.message ?? error.message,
    };
  } finally {
    await pipeline.close();
  }
}

function human(url: URL, run: DoctorRun): string {
  const { route, report, plan, results, verdict, suggestions, proxy } = run;
  const p = report.proxy;
  const environment = table(
    ['environment', ''],
    [
      ['proxy', p.source === 'none' ? 'none' : `${p.source}: ${p.https ?? p.http ?? p.socks ?? '-'}`],
      ['route for this URL', route],
      ['proxy state', proxy.state],
      [
        'TUN',
        `${report.tun.active ? 'ACTIVE' : 'no'}${report.tun.interface ? ` (${report.tun.interface})` : ''}`,
      ],
      [
        'fake-IP DNS',
        `${report.fakeIp.active === null ? 'unknown' : report.fakeIp.active ? 'ACTIVE' : 'no'}: ${report.fakeIp.reason}`,
      ],
      ['plan', plan.join(' → ')],
      ...report.warnings.map((warning) => ['warning', warning]),
    ],
  );
  const rows = table(
    ['strategy', 'route', 'outcome', 'class', 'code', 'ms'],
    results.map((r) => [
      r.strategy,
      r.route,
      r.outcome,
      r.failureClass ?? '',
      r.code ?? (r.outcome === 'skipped' ? (r.message ?? '') : ''),
      String(r.ms),
    ]),
  );
  const fixes = suggestions.length
    ? ['fixes:', ...suggestions.map((s) => `  [${s.kind}] ${s.text}`)].join('\n')
    : 'fixes: none needed';
  return [
    `detour doctor ${url.toString()}`,
    '',
    environment,
    '',
    rows,
    '',
    `verdict: ${verdict}`,
    '',
    fixes,
  ].join('\n');
}
