import { parseArgs } from 'node:util';
import { createPipeline, DetourError, type FetchResultInfo, type PipelineOptions } from '@detour/core';
import { type Lab, startLab } from '@detour/lab';
import { type CliIo, EXIT_FAILED, EXIT_OK, write } from '../io.js';
import { attemptsTable } from '../table.js';

/** One situation from the field, reproduced on loopback. */
interface Scenario {
  title: string;
  /** What the network looks like, in a line. */
  environment: string;
  url: (lab: Lab) => string;
  options: (lab: Lab) => PipelineOptions;
  /** The strategy that should win, or null when the honest answer is a failure. */
  expected: string | null;
}

const scenarios: Scenario[] = [
  {
    title: 'modern HTTPS origin, nothing in the way',
    environment: 'direct, strict TLS',
    url: (lab) => `${lab.https.url}/image.png`,
    options: () => ({ proxy: false }),
    expected: 'direct',
  },
  {
    title: 'system proxy (tinyproxy, HTTP CONNECT) in front',
    environment: 'HTTP proxy',
    url: (lab) => `${lab.https.url}/image.png`,
    options: (lab) => ({ proxy: lab.proxies.http.url }),
    expected: 'direct',
  },
  {
    title: 'SOCKS5 proxy (microsocks) with credentials',
    environment: 'SOCKS5 proxy',
    url: (lab) => `${lab.https.url}/image.png`,
    options: (lab) => ({ proxy: lab.proxies.socksAuth.authUrl }),
    expected: 'direct',
  },
  {
    title: 'proxy refuses (wrong credentials): go around it',
    environment: 'HTTP proxy answering 407',
    url: (lab) => `${lab.https.url}/image.png`,
    options: (lab) => ({ proxy: lab.proxies.httpAuth.url, maxRetries: 0 }),
    expected: 'direct-bypass',
  },
  {
    title: 'the server says 404: nothing can rescue that',
    environment: 'direct',
    url: (lab) => `${lab.https.url}/status/404`,
    options: () => ({ proxy: false }),
    expected: null,
  },
];

export async function runDemo(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { json: { type: 'boolean' } } });
  const lab = await startLab();
  const results: Array<{ title: string; ok: boolean; expected: string | null; got: string | null }> = [];
  try {
    write(io.stdout, `Detour demo: real servers and proxies on 127.0.0.1 (lab CA ${lab.caPath})\n`);
    for (const scenario of scenarios) {
      const pipeline = createPipeline({ allowPrivateNetwork: true, ca: lab.ca, ...scenario.options(lab) });
      let info: FetchResultInfo | undefined;
      let error: DetourError | undefined;
      try {
        const { body: _body, ...rest } = await pipeline.fetch(scenario.url(lab), { expect: 'image' });
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
      if (values.json) continue;
      write(io.stdout, `■ ${scenario.title}\n  environment: ${scenario.environment}`);
      write(
        io.stdout,
        info
          ? `  winner: ${info.strategy} (${info.bytes} bytes${info.degraded ? ', DEGRADED' : ''}${info.insecure ? ', INSECURE' : ''}${info.downgraded ? ', DOWNGRADED' : ''})`
          : `  failed: ${error!.failureClass} (${error!.code})`,
      );
      write(io.stdout, indent(attemptsTable(info?.attempts ?? error!.attempts)));
      write(io.stdout, '');
    }
  } finally {
    await lab.close();
  }
  if (values.json) write(io.stdout, JSON.stringify(results));
  const wrong = results.filter((r) => !r.ok);
  write(io.stdout, `${results.length - wrong.length}/${results.length} scenarios ended as expected`);
  return wrong.length ? EXIT_FAILED : EXIT_OK;
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
