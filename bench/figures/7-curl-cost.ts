/**
 * Figure 7: what the `curl` strategy costs per download compared with the in-process path
 * (`direct` over a warm keep-alive socket): a process spawn, a fresh TCP + TLS handshake, the
 * headers through a file. The plain `curl` CLI per file with the same CA bundle is the floor of
 * that cost (issue 13: the strategy within 1.5x of it).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { curlClient, curlVersion } from '../lib/clients.js';
import { KiB, MiB } from '../lib/config.js';
import { detourClient, labPipeline, labTrust, strategyPlugin } from '../lib/detour.js';
import { startLabProcess } from '../lib/lab-process.js';
import { runLoad } from '../lib/load.js';
import { type Cell, type Figure, NotAvailable, type Target } from '../lib/types.js';
import { pushTo, ratio, summarize } from '../stats.js';

const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/ssl/cert.pem',
];

const PATH_LABELS: Record<string, string> = {
  curl: 'curl CLI per file, lab CA only',
  'curl+bundle': 'curl CLI per file, system bundle + lab CA',
};

export const figure: Figure = {
  id: 7,
  key: 'curl-cost',
  title: 'curl strategy cost vs the in-process path',
  async run(ctx) {
    const { runs, sequential, concurrent, concurrency } = ctx.config.curlCost;
    if (!(await curlVersion())) throw new NotAvailable('no curl binary on PATH');
    const curl = await strategyPlugin('curl');
    const lab = await startLabProcess({ origin: { kind: 'https' } });
    ctx.defer(() => lab.close());
    const trust = labTrust(lab.caPem, lab.caPath);
    const viaCurl = await labPipeline(lab.caPem, {
      ...trust.options,
      use: [curl],
      strategies: ['curl'],
      cache: false,
    });
    const inProcess = await labPipeline(lab.caPem, {
      ...trust.options,
      strategies: ['direct'],
      cache: false,
    });
    const clients = [
      detourClient(inProcess, 'Detour direct (in-process)'),
      detourClient(viaCurl, 'Detour curl strategy'),
      curlClient(lab.caPath),
    ];
    // The curl strategy trusts the system bundle plus the caller's CAs (one file): the CLI with the
    // same file shows how much of the cost is OpenSSL parsing ~150 roots per process.
    const system = SYSTEM_BUNDLES.find((path) => existsSync(path));
    if (system) {
      const dir = mkdtempSync(join(tmpdir(), 'detour-bench-ca-'));
      ctx.defer(() => rmSync(dir, { recursive: true, force: true }));
      const bundle = join(dir, 'bundle.pem');
      writeFileSync(bundle, `${readFileSync(system, 'utf8')}\n${lab.caPem}`);
      clients.push({ ...curlClient(bundle), name: 'curl+bundle' });
    }
    ctx.defer(() => Promise.all(clients.map((c) => c.close())));

    // The curl strategy must really be the one answering.
    const probe = await viaCurl.fetch(`${lab.servers.origin!.ipUrl}/image.png`);
    if (probe.strategy !== 'curl')
      throw new NotAvailable(`the curl pipeline answered with ${probe.strategy}`);

    const scenarios = [
      { label: `10 KiB × ${sequential}, sequential`, bytes: 10 * KiB, total: sequential, concurrency: 1 },
      {
        label: `10 KiB × ${concurrent}, ${concurrency} in flight`,
        bytes: 10 * KiB,
        total: concurrent,
        concurrency,
      },
      { label: `1 MiB × ${sequential}, sequential`, bytes: MiB, total: sequential, concurrency: 1 },
    ];
    const rows: Cell[][] = [];
    const targets: Target[] = [];
    const data: Record<string, unknown> = {};
    let serial = 0;
    for (const s of scenarios) {
      const url = () => `${lab.servers.origin!.ipUrl}/big?bytes=${s.bytes}&n=${serial++}`;
      const medians: Record<string, number[]> = {};
      const rps: Record<string, number[]> = {};
      for (let run = 0; run < runs; run++) {
        for (const client of run % 2 ? [...clients].reverse() : clients) {
          ctx.signal.throwIfAborted();
          await runLoad(Math.max(2, s.concurrency), s.concurrency, () => client.get(url()), ctx.signal);
          const load = await runLoad(s.total, s.concurrency, () => client.get(url()), ctx.signal);
          if (load.failed) ctx.log(`${client.name}: ${load.failed} failed: ${load.errors[0]}`);
          pushTo(medians, client.name, summarize(load.latencies).median);
          pushTo(rps, client.name, (load.ok / load.wallMs) * 1000);
        }
      }
      const base = medians[clients[0]!.name]!;
      const cli = medians.curl!;
      // Issue 13: the strategy within 1.5x a plain curl per file that trusts the same CA bundle.
      const sameBundle = medians['curl+bundle'];
      for (const client of clients) {
        const mine = medians[client.name]!;
        const vsInProcess = summarize(mine.map((m, i) => ratio(m, base[i]!)));
        const vsCli = summarize(mine.map((m, i) => ratio(m, cli[i]!)));
        const extra = summarize(mine.map((m, i) => m - base[i]!));
        const vsBundle = sameBundle ? summarize(mine.map((m, i) => ratio(m, sameBundle[i]!))) : undefined;
        if (client.name === 'Detour curl strategy') {
          targets.push({
            name: `${s.label}: curl strategy ÷ curl CLI with the same CA bundle`,
            target: '≤ 1.50',
            value: vsBundle ? Number(vsBundle.median.toFixed(3)) : null,
            met: vsBundle ? vsBundle.median <= 1.5 : null,
          });
        }
        rows.push([
          s.label,
          PATH_LABELS[client.name] ?? client.name,
          summarize(mine).median,
          summarize(rps[client.name]!).median,
          client === clients[0]
            ? '1 (base)'
            : `${vsInProcess.median.toFixed(2)} / ${vsInProcess.p95.toFixed(2)}`,
          client === clients[0] ? null : extra.median,
          client.name === 'curl' ? '1 (base)' : vsCli.median.toFixed(2),
          client.name === 'curl+bundle' ? '1 (base)' : (vsBundle?.median.toFixed(2) ?? '–'),
        ]);
      }
      data[s.label] = { medians, rps };
    }
    return {
      tables: [
        {
          caption: `${runs} runs; \`pipeline.fetch\` with the plan forced to one strategy, cache off; the in-process path reuses keep-alive sockets, curl cannot.`,
          columns: [
            'scenario',
            'path',
            'median ms',
            'req/s',
            '÷ in-process (med / p95)',
            'extra ms per download',
            '÷ curl CLI',
            '÷ curl CLI, same CA bundle',
          ],
          rows,
        },
      ],
      targets,
      notes: [
        `Trust: ${trust.label}. The curl strategy hands curl the system bundle plus the extra CAs as one \`--cacert\` file.`,
      ],
      data,
    };
  },
};
