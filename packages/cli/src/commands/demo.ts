import { randomBytes } from 'node:crypto';
import {
  createPipeline,
  DetourError,
  type ExpectKind,
  type FetchResultInfo,
  type PipelineOptions,
} from '@detour/core';
import {
  type AcceleratorProxy,
  type CertProblemOrigins,
  type DowngradeOrigin,
  interceptLookup,
  type Lab,
  type LegacyOrigin,
  startAcceleratorProxy,
  startCertProblemOrigins,
  startDowngradeOrigin,
  startLab,
  startLegacyHttpsOrigin,
  startTencentTwin,
  TENCENT_TWIN_NAMES,
  type TencentTwin,
} from '@detour/lab';
import { rkeyProvider } from '@detour/qq';
import { type DetourOptions, resolvePresets, strategyPlugins } from 'detour';
import { parse } from '../args.js';
import { DEMO } from '../definitions.js';
import { type CliIo, EXIT_FAILED, EXIT_OK, UsageError, write } from '../io.js';
import { attemptsTable } from '../table.js';

/** The servers of the demo: the lab's basics plus the hostile pieces. */
interface DemoLab {
  lab: Lab;
  legacy: LegacyOrigin;
  accelerator: AcceleratorProxy;
  downgrade: DowngradeOrigin;
  certs: CertProblemOrigins;
  /** Tencent's CDN on 127.0.0.1, reached as multimedia.nt.qq.com.cn / gchat.qpic.cn / c2cpicdw.qpic.cn. */
  twin: TencentTwin;
  close(): Promise<void>;
}

/**
 * The Tencent scenarios try the in-process strategies only: the demo maps Tencent's names to
 * 127.0.0.1 inside this process (interceptLookup), and curl, a child process, would ask the
 * system's DNS instead — it must never reach the real CDN.
 */
const QQ_ROUTE: PipelineOptions = { proxy: false, strategies: ['direct', 'direct-bypass', 'tls-relaxed'] };

const QQ_PICTURE = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(540 * 1024 - 4)]);
const QQ_VOICE = Buffer.concat([Buffer.from([0x02]), Buffer.from('#!SILK_V3'), randomBytes(4_000)]);

async function startDemoLab(): Promise<DemoLab> {
  const lab = await startLab();
  const parts = await Promise.all([
    startLegacyHttpsOrigin('sha1-signatures'),
    startAcceleratorProxy({ mode: 'alert', break: [lab.https.port] }),
    startDowngradeOrigin('alert'),
    startCertProblemOrigins(),
    startTencentTwin({
      files: {
        picture: { bytes: QQ_PICTURE, contentType: 'application/octet-stream' },
        cut: { bytes: QQ_PICTURE, truncate: 'range' },
        voice: { bytes: QQ_VOICE, appid: 1402, contentType: 'audio/amr' },
      },
    }),
  ]).catch(async (error: unknown) => {
    await lab.close();
    throw error;
  });
  const [legacy, accelerator, downgrade, certs, twin] = parts;
  // Tencent's real names answer 127.0.0.1 in this process only; any other Tencent name is refused.
  const restoreLookup = interceptLookup(Object.fromEntries(TENCENT_TWIN_NAMES.map((n) => [n, '127.0.0.1'])));
  return {
    lab,
    legacy,
    accelerator,
    downgrade,
    certs,
    twin,
    close: async () => {
      restoreLookup();
      await Promise.all([
        legacy.close(),
        accelerator.close(),
        downgrade.close(),
        certs.close(),
        twin.close(),
      ]);
      await lab.close();
    },
  };
}

/** One situation from the field, reproduced on loopback. */
interface Scenario {
  title: string;
  /** What the network looks like, in a line. */
  environment: string;
  url: (d: DemoLab) => string;
  options: (d: DemoLab) => PipelineOptions;
  flags?: DetourOptions;
  /** What the body must be (default image). */
  expect?: ExpectKind;
  /** The strategy that should win, or null when the honest answer is a failure. */
  expected: string | null;
}

const scenarios: Scenario[] = [
  {
    title: 'modern HTTPS origin, nothing in the way',
    environment: 'direct, strict TLS',
    url: (d) => `${d.lab.https.url}/image.png`,
    options: () => ({ proxy: false }),
    expected: 'direct',
  },
  {
    title: 'system proxy (tinyproxy, HTTP CONNECT) in front',
    environment: 'HTTP proxy',
    url: (d) => `${d.lab.https.url}/image.png`,
    options: (d) => ({ proxy: d.lab.proxies.http.url }),
    expected: 'direct',
  },
  {
    title: 'SOCKS5 proxy (microsocks) with credentials',
    environment: 'SOCKS5 proxy',
    url: (d) => `${d.lab.https.url}/image.png`,
    options: (d) => ({ proxy: d.lab.proxies.socksAuth.authUrl }),
    expected: 'direct',
  },
  {
    title: 'legacy server (SHA-1 signatures): the seed SSLV3_ALERT_HANDSHAKE_FAILURE',
    environment: 'direct; origin needs legacy TLS',
    url: (d) => `${d.legacy.url}/image.png`,
    options: () => ({ proxy: false }),
    expected: 'tls-relaxed',
  },
  {
    title: 'broken accelerator: the proxy kills the TLS handshake for this host',
    environment: 'HTTP proxy that sends a handshake_failure alert',
    url: (d) => `${d.lab.https.url}/image.png`,
    options: (d) => ({ proxy: d.accelerator.url }),
    expected: 'direct-bypass',
  },
  {
    title: 'proxy refuses (wrong credentials): go around it',
    environment: 'HTTP proxy answering 407',
    url: (d) => `${d.lab.https.url}/image.png`,
    options: (d) => ({ proxy: d.lab.proxies.httpAuth.url, maxRetries: 0 }),
    expected: 'direct-bypass',
  },
  {
    title: 'TLS broken everywhere, host opted in to plain HTTP',
    environment: 'direct; TLS answered with an alert, HTTP works on the same port',
    url: (d) => `${d.downgrade.shared.httpsUrl}/image.png`,
    options: () => ({ proxy: false }),
    flags: { allowDowngrade: ['localhost'] },
    expected: 'http-downgrade',
  },
  {
    title: 'TLS broken everywhere, no opt-in, placeholder enabled: degraded, and says so',
    environment: 'direct; TLS answered with an alert',
    url: (d) => `${d.downgrade.httpsUrl}/image.png`,
    options: () => ({ proxy: false }),
    flags: { placeholder: true },
    expected: 'placeholder',
  },
  {
    title: 'expired certificate: refused, nothing relaxes certificate checks uninvited',
    environment: 'direct',
    url: (d) => `${d.certs.expired.url}/image.png`,
    options: () => ({ proxy: false }),
    expected: null,
  },
  {
    title: 'expired certificate, host listed in insecureHosts',
    environment: 'direct; caller accepted the risk for this host',
    url: (d) => `${d.certs.expired.url}/image.png`,
    options: () => ({ proxy: false }),
    flags: { insecureHosts: ['localhost'] },
    expected: 'tls-relaxed',
  },
  {
    title: 'the real curl binary through the HTTP proxy',
    environment: 'HTTP proxy; strategies: curl only',
    url: (d) => `${d.lab.https.url}/image.png`,
    options: (d) => ({ proxy: d.lab.proxies.http.url, strategies: ['curl'] }),
    expected: 'curl',
  },
  {
    title: 'QQ: the rkey expired — url-expired (retcode -5503007), one request, no fallback, not cached',
    environment: 'multimedia.nt.qq.com.cn (twin); qq preset on',
    url: (d) => {
      const url = d.twin.downloadUrl('picture');
      d.twin.rotateKeys();
      return url;
    },
    options: () => QQ_ROUTE,
    expected: null,
  },
  {
    title: 'QQ: the rkey expired, OneBot hands out a fresh one (rkeyProvider): one refresh',
    environment: 'multimedia.nt.qq.com.cn (twin) + a OneBot HTTP API',
    url: (d) => {
      const url = d.twin.downloadUrl('picture');
      d.twin.rotateKeys();
      return url;
    },
    options: (d) => ({ ...QQ_ROUTE, refreshUrl: rkeyProvider({ endpoint: d.twin.onebot.url }).refreshUrl }),
    expected: 'direct',
  },
  {
    title: 'QQ: `&amp;rkey=` left in by CQ-code escaping (else -5503010 "invalid rkey")',
    environment: 'multimedia.nt.qq.com.cn (twin)',
    url: (d) => d.twin.downloadUrl('picture', { amp: true }),
    options: () => QQ_ROUTE,
    expected: 'direct',
  },
  {
    title: 'QQ: a 540 KB picture cut half-way, the CDN offers Range: one full GET plus one range request',
    environment: 'multimedia.nt.qq.com.cn (twin) closing the connection at 270 KB',
    url: (d) => d.twin.downloadUrl('cut'),
    options: () => QQ_ROUTE,
    expected: 'direct',
  },
  {
    title: 'QQ: SILK voice served as audio/amr, expect audio',
    environment: 'grouptalk.c2c.qq.com (twin)',
    url: (d) => d.twin.downloadUrl('voice', { host: 'grouptalk.c2c.qq.com' }),
    options: () => QQ_ROUTE,
    expect: 'audio',
    expected: 'direct',
  },
  {
    title: 'QQ: a legacy offpic URL answers 404; one rewrite to gchatpic_new/0/0-0-<MD5>/0',
    environment: 'c2cpicdw.qpic.cn / gchat.qpic.cn (twin)',
    url: (d) =>
      `https://c2cpicdw.qpic.cn:${d.twin.port}/offpic_new/10001/10001-2-${d.twin.files.picture!.md5}/0?term=2`,
    options: () => QQ_ROUTE,
    expected: 'direct',
  },
  {
    title: "QQ: a chrome profile's foreign Referer is never sent to qpic (it answers with a stand-in)",
    environment: 'gchat.qpic.cn (twin) with anti-hot-link',
    url: (d) => d.twin.downloadUrl('picture', { host: 'gchat.qpic.cn' }),
    options: () => ({ ...QQ_ROUTE, headersProfile: 'chrome', headers: { referer: 'https://bot.example/' } }),
    expected: 'direct',
  },
  {
    title: "QQ: the RSA-only TLS 1.2 edge (AES128-GCM-SHA256) behind Python's SSLV3_ALERT_HANDSHAKE_FAILURE",
    environment: 'multimedia.nt.qq.com.cn (twin), static-RSA cipher only',
    url: (d) => d.twin.downloadUrl('picture', { rsaEdge: true }),
    options: () => QQ_ROUTE,
    expected: 'direct',
  },
  {
    title: 'the server says 404: nothing can rescue that',
    environment: 'direct',
    url: (d) => `${d.lab.https.url}/status/404`,
    options: () => ({ proxy: false }),
    flags: { placeholder: true },
    expected: null,
  },
];

export async function runDemo(argv: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parse(DEMO, argv);
  if (positionals.length) throw new UsageError('demo takes no arguments (see detour demo --help)');
  const json = flags.bool('json');
  const demo = await startDemoLab();
  const { lab } = demo;
  const results: Array<{ title: string; ok: boolean; expected: string | null; got: string | null }> = [];
  try {
    if (!json)
      write(io.stdout, `Detour demo: real servers and proxies on 127.0.0.1 (lab CA ${lab.caPath})\n`);
    for (const scenario of scenarios) {
      const pipeline = createPipeline({
        allowPrivateNetwork: true,
        ca: lab.ca,
        use: strategyPlugins(scenario.flags ?? {}),
        presets: resolvePresets(), // as `detour fetch` ships: the qq preset acts on Tencent hosts only
        ...scenario.options(demo),
      });
      let info: FetchResultInfo | undefined;
      let error: DetourError | undefined;
      try {
        const { body: _body, ...rest } = await pipeline.fetch(scenario.url(demo), {
          expect: scenario.expect ?? 'image',
        });
        info = rest;
      } catch (e) {
        if (!(e instanceof DetourError)) throw e;
        error = e;
      } finally {
        await pipeline.close();
      }
      const got = info?.strategy ?? null;
      results.push({
        title: scenario.title,
        ok: got === scenario.expected,
        expected: scenario.expected,
        got,
      });
      if (json) continue;
      write(io.stdout, `■ ${scenario.title}\n  environment: ${scenario.environment}`);
      write(
        io.stdout,
        info
          ? `  winner: ${info.strategy} (${info.bytes} bytes${info.format ? `, ${info.format}` : ''}${info.degraded ? ', DEGRADED' : ''}${info.insecure ? ', INSECURE' : ''}${info.downgraded ? ', DOWNGRADED' : ''})`
          : `  failed: ${error!.failureClass} (${error!.code}${error!.retcode !== undefined ? `, retcode ${error!.retcode}` : ''})`,
      );
      write(io.stdout, indent(attemptsTable(info?.attempts ?? error!.attempts)));
      write(io.stdout, '');
    }
  } finally {
    await demo.close();
  }
  const wrong = results.filter((r) => !r.ok);
  // --json: exactly one JSON document on stdout, nothing else.
  if (json) write(io.stdout, JSON.stringify({ ok: wrong.length === 0, scenarios: results }));
  else write(io.stdout, `${results.length - wrong.length}/${results.length} scenarios ended as expected`);
  return wrong.length ? EXIT_FAILED : EXIT_OK;
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
