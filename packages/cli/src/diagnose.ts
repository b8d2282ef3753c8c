/**
 * `detour doctor`'s reading of the results: a verdict in plain words and concrete fixes. Pure
 * functions over what each strategy did alone (table-tested in packages/cli/test).
 */
import type { FailureClass } from '@detour/core';
import { getDomain } from 'tldts';
import { adviceFor, mostTelling } from './advice.js';

/** One strategy tried alone. Field names are a contract (`detour doctor --json`). */
export interface DoctorResult {
  strategy: string;
  route: string;
  outcome: 'ok' | 'failed' | 'skipped';
  failureClass: FailureClass | null;
  code: string | null;
  ms: number;
  /** Why it failed or was skipped (human output only). */
  message?: string | undefined;
}

export type SuggestionKind = 'clash-rule' | 'fake-ip-filter' | 'no-proxy' | 'detour-flag' | 'system';

export interface Suggestion {
  kind: SuggestionKind;
  text: string;
}

/** What the proxy in the way of this URL does, told apart by what the strict request met. */
export type ProxyState =
  | 'none'
  | 'works'
  | 'not-running'
  | 'stuck'
  | 'breaks-tls'
  | 'refuses-target'
  | 'needs-auth';

/** Where the proxy came from: a variable, the OS settings, or `--proxy`. */
export type ProxyOrigin = 'env' | 'system' | 'flag';

/** `detour doctor --json`'s `proxy`. Field names are a contract. */
export interface ProxyDiagnosis {
  /** The proxy this URL goes through, without credentials; null when none. */
  url: string | null;
  source: ProxyOrigin | null;
  state: ProxyState;
}

const TIMEOUT_CODES = /TIMEOUT|DEADLINE|ETIMEDOUT/;
const REFUSED = /^(ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|EADDRNOTAVAIL|ENOTFOUND|EAI_AGAIN|CURL_E5|CURL_E7)$/;
const AUTH = /^(PROXY_HTTP_407|PROXY_HTTP_401|PROXY_SOCKS_AUTH)$/;
const BROKEN = new Set<FailureClass | null>(['tls-handshake', 'tls-protocol', 'connect-reset']);

/**
 * The state of the proxy in `route` (the strict request's), from the strategies that went through
 * it: the first failure of one of them decides, `direct`'s first. Pure.
 */
export function proxyState(route: string, results: readonly DoctorResult[]): ProxyState {
  if (route === 'direct' || route === 'none') return 'none';
  const through = results.filter((r) => r.route === route && r.outcome !== 'skipped');
  const first = through.find((r) => r.strategy === 'direct') ?? through[0];
  if (!first || first.outcome === 'ok') return 'works';
  const code = first.code ?? '';
  if (code === 'DETOUR_PROXY_TIMEOUT' || (first.failureClass === 'proxy' && TIMEOUT_CODES.test(code)))
    return 'stuck';
  if (first.failureClass === 'proxy') {
    if (AUTH.test(code)) return 'needs-auth';
    if (REFUSED.test(code)) return 'not-running';
    return 'refuses-target';
  }
  if (BROKEN.has(first.failureClass)) {
    // The origin's own fault when going around the proxy fails the same way.
    const around = results.find((r) => r.route === 'direct' && r.outcome !== 'skipped');
    return around?.outcome === 'failed' && around.failureClass === first.failureClass
      ? 'works'
      : 'breaks-tls';
  }
  return 'works';
}

export interface DiagnoseInput {
  host: string;
  /** The route a strict request takes (`direct` or the proxy URL without credentials). */
  route: string;
  /** Where the proxy came from (default: `flag`) and the variables naming it (for the advice). */
  proxySource?: ProxyOrigin | undefined;
  proxyVariables?: readonly string[] | undefined;
  /** Answers of the fake-IP check for the host that fell in a fake-IP range. */
  fakeIpAnswers: string[];
  /** `NO_PROXY` as set now (to extend it rather than replace it). */
  noProxy: string | null;
  downgradeAllowed: boolean;
  results: DoctorResult[];
}

export interface Diagnosis {
  proxy: ProxyDiagnosis;
  verdict: string;
  suggestions: Suggestion[];
}

/** How to stop using a proxy, by where it came from. */
function dropIt(source: ProxyOrigin, variables: readonly string[]): string {
  if (source === 'flag') return 'drop --proxy';
  if (source === 'system') return 'turn the system proxy off';
  return `unset the variable (${variables.length ? `unset ${variables.join(' ')}` : 'https_proxy / all_proxy'})`;
}

/**
 * The proxy's own failure, when it is one a DIRECT rule cannot fix (a proxy that is not running,
 * stuck, or wants credentials applies no rule): the sentence and the first fix.
 */
function proxyProblem(
  state: ProxyState,
  url: string,
  source: ProxyOrigin,
  variables: readonly string[],
  code: string,
  bypassWorks: boolean,
): { sentence: string; suggestion: Suggestion } | undefined {
  const meanwhile = bypassWorks
    ? ' Until then Detour goes around it (direct-bypass, in the default plan; --no-bypass forbids that).'
    : '';
  const from =
    source === 'flag' ? '--proxy' : source === 'system' ? 'the system settings' : 'the environment';
  if (state === 'not-running') {
    return {
      sentence: `The proxy ${url} (from ${from}) is not running: nothing accepts connections there (${code}).${meanwhile}`,
      suggestion: {
        kind: 'system',
        text: `the proxy at ${url} is not running: start it or ${dropIt(source, variables)}`,
      },
    };
  }
  if (state === 'stuck') {
    return {
      sentence: `The proxy ${url} accepts connections and never answers (${code}).${meanwhile}`,
      suggestion: {
        kind: 'system',
        text: `the proxy at ${url} is stuck: restart it or check its upstream, or ${dropIt(source, variables)}`,
      },
    };
  }
  if (state === 'needs-auth') {
    return {
      sentence: `The proxy ${url} wants credentials it was not given (${code}).${meanwhile}`,
      suggestion: {
        kind: 'system',
        text: `give the proxy its user and password in the URL (${url.replace('://', '://USER:PASS@')}) in ${from === '--proxy' ? '--proxy' : from}, or ${dropIt(source, variables)}`,
      },
    };
  }
  return undefined;
}

/** The domain a rule should name: the registrable domain (`qq.com.cn` for `multimedia.nt.qq.com.cn`). */
export function ruleDomain(host: string): string {
  return getDomain(host, { allowPrivateDomains: false }) ?? host;
}

const isIp = (host: string) => /^[\d.]+$/.test(host) || host.includes(':');

const COST: Record<string, { what: string; flag: string }> = {
  'tls-relaxed': {
    what: 'the server (or something in the way) needs legacy TLS: TLS 1.0+, old ciphers, SHA-1 signatures at OpenSSL security level 0, so this host gets weaker protection; certificates are still checked unless the host is in --insecure-host',
    flag: 'on by default in `detour fetch` and createDetour (the tls-relaxed strategy)',
  },
  curl: {
    what: "curl's own TLS stack and proxy code get through where Node's do not; it costs a child process per download (about 30 ms more)",
    flag: 'on by default when curl is found (--curl PATH to point at one)',
  },
  'http-downgrade': {
    what: 'plain HTTP: the content is visible and alterable on the way, credentials headers are dropped',
    flag: 'enable it for this host with --allow-downgrade HOST (allowDowngrade in the library)',
  },
};

/** The verdict's sentences and the fixes, as they are written. */
interface Advice {
  sentences: string[];
  suggestions: Suggestion[];
}

/** The proxy breaks the host and going around it works: say so, and how to route it DIRECT. */
function bypassAdvice(
  out: Advice,
  input: DiagnoseInput,
  state: ProxyState,
  firstThrough: DoctorResult | undefined,
): void {
  const { host, route, results } = input;
  const { sentences, suggestions } = out;
  const domain = ruleDomain(host);
  const direct = results.find((r) => r.strategy === 'direct');
  if (state === 'refuses-target') {
    suggestions.push({
      kind: 'system',
      text: `the proxy at ${route} refuses to open a tunnel to ${host} (${firstThrough?.code ?? 'refused'}): allow that port in its configuration (tinyproxy: ConnectPort; Squid: SSL_ports), or route the domain DIRECT`,
    });
  }
  const why = direct?.failureClass ? ` (${direct.failureClass}${direct.code ? `, ${direct.code}` : ''})` : '';
  sentences.push(
    `The proxy ${route} breaks ${host}: the strict request through it fails${why}, the same request without the proxy works. Detour already does this for you: direct-bypass is in the default plan and the winner is remembered per host, so only the first download pays for the failed attempt. To stop the proxy breaking it for every program, route the domain DIRECT.`,
  );
  suggestions.push({
    kind: 'clash-rule',
    text: isIp(host) ? `IP-CIDR,${host}/32,DIRECT,no-resolve` : `DOMAIN-SUFFIX,${domain},DIRECT`,
  });
  const entries = [
    ...(input.noProxy ? input.noProxy.split(',').map((e) => e.trim()) : []),
    isIp(host) ? host : `.${domain}`,
  ];
  suggestions.push({
    kind: 'no-proxy',
    text: `NO_PROXY=${[...new Set(entries)].filter(Boolean).join(',')}`,
  });
}

/** Only relaxed strategies work: name them and what each costs. */
function partialAdvice(out: Advice, input: DiagnoseInput, ok: string[]): void {
  const { host, results } = input;
  const { sentences, suggestions } = out;
  const direct = results.find((r) => r.strategy === 'direct');
  sentences.push(
    `Only ${ok.join(' and ')} ${ok.length > 1 ? 'work' : 'works'} for ${host}${direct?.failureClass ? `; the strict request fails with ${direct.failureClass}${direct.code ? ` (${direct.code})` : ''}` : ''}.`,
  );
  for (const name of ok) {
    const cost = COST[name];
    if (cost) {
      sentences.push(`${name}: ${cost.what}.`);
      suggestions.push({ kind: 'detour-flag', text: `${name}: ${cost.flag}` });
    }
  }
}

/** The most telling failure among failed results, as the advice module ranks them. */
function bestFailure(failed: DoctorResult[]) {
  return failed.length
    ? mostTelling(
        {
          failureClass: failed[0]!.failureClass ?? 'unknown',
          code: failed[0]!.code ?? '',
          message: failed[0]!.message ?? '',
        },
        failed.map((r) => ({
          strategy: r.strategy,
          route: r.route,
          outcome: 'failed' as const,
          failureClass: r.failureClass ?? 'unknown',
          code: r.code ?? '',
          message: r.message ?? '',
          ms: r.ms,
        })),
      )
    : undefined;
}

/** Nothing worked: what was tried, the most telling failure, and what might help. */
function nothingWorkedAdvice(out: Advice, input: DiagnoseInput): void {
  const { host, results } = input;
  const { sentences, suggestions } = out;
  const ran = results.filter((r) => r.outcome !== 'skipped');
  const tried = ran.map((r) => r.strategy);
  const skipped = results.filter((r) => r.outcome === 'skipped');
  const failed = results.filter((r) => r.outcome === 'failed');
  const best = bestFailure(failed);
  sentences.push(
    `Nothing worked for ${host}. Tried: ${tried.join(', ') || 'nothing'}${skipped.length ? ` (skipped: ${skipped.map((s) => `${s.strategy}, ${s.message ?? 'not applicable'}`).join('; ')})` : ''}.`,
  );
  if (best) {
    sentences.push(
      `The most telling failure: ${best.failureClass} (${best.code}) in ${best.strategy}${best.route && best.route !== 'direct' ? ` via ${best.route}` : ''}: ${best.message}`,
    );
    const advice = adviceFor(best, host);
    if (advice && !advice.includes('detour doctor')) {
      suggestions.push({ kind: /--[a-z]/.test(advice) ? 'detour-flag' : 'system', text: advice });
    }
    const tlsBroken = failed.some(
      (r) => r.failureClass === 'tls-handshake' || r.failureClass === 'tls-protocol',
    );
    if (tlsBroken && !input.downgradeAllowed) {
      suggestions.push({
        kind: 'detour-flag',
        text: `if ${host} serves the same file over plain HTTP: try \`detour doctor URL --allow-downgrade ${host}\` (plaintext: content visible and alterable)`,
      });
    }
  }
}

/** The verdict and the fixes for one doctor run. */
export function diagnose(input: DiagnoseInput): Diagnosis {
  const { host, route, results } = input;
  const ok = results.filter((r) => r.outcome === 'ok').map((r) => r.strategy);
  const viaProxy = route !== 'direct';
  const domain = ruleDomain(host);
  const out: Advice = { sentences: [], suggestions: [] };
  const { sentences, suggestions } = out;

  if (input.fakeIpAnswers.length) {
    sentences.push(
      `Fake-IP DNS answers ${host} with ${input.fakeIpAnswers.join(', ')}: connections to it go into the accelerator's TUN, whatever route Detour picks, so going around the proxy is not possible from here.`,
    );
    suggestions.push({
      kind: 'fake-ip-filter',
      text: `give ${host} its real address: add '+.${domain}' to dns.fake-ip-filter in the Clash/mihomo config (sing-box: a dns rule with domain_suffix ${domain} to a real DNS server)`,
    });
  }

  const state = proxyState(route, results);
  const source = input.proxySource ?? 'flag';
  const proxy: ProxyDiagnosis =
    state === 'none' ? { url: null, source: null, state } : { url: route, source, state };
  const through = results.filter((r) => r.route === route && r.outcome === 'failed');
  const firstThrough = through.find((r) => r.strategy === 'direct') ?? through[0];
  const problem = viaProxy
    ? proxyProblem(
        state,
        route,
        source,
        input.proxyVariables ?? [],
        firstThrough?.code ?? '',
        ok.includes('direct-bypass'),
      )
    : undefined;
  if (problem) {
    sentences.push(problem.sentence);
    suggestions.push(problem.suggestion);
  }

  if (ok.includes('direct')) {
    sentences.push(
      viaProxy
        ? `A strict request to ${host} through ${route} works: nothing needs fixing for this URL.`
        : `A strict request to ${host} works directly: nothing is in the way for this URL.`,
    );
  } else if (problem && ok.includes('direct-bypass')) {
    // Said above: the proxy itself is the problem, and a DIRECT rule in it would change nothing.
  } else if (viaProxy && ok.includes('direct-bypass')) {
    bypassAdvice(out, input, state, firstThrough);
  } else if (ok.length) {
    partialAdvice(out, input, ok);
  } else {
    nothingWorkedAdvice(out, input);
  }
  return { proxy, verdict: sentences.join(' '), suggestions };
}
