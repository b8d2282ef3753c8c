/**
 * Detour as the benchmarks see it: the SOURCE packages (bench/tsconfig.json maps `@detour/*` to
 * `packages/<name>/src`), loaded lazily so that a package that is missing or broken turns only the
 * figures that need it into `n/a`.
 */
import type { Pipeline, PipelineOptions, Plugin } from '@detour/core';
import type { Client } from './clients.js';
import { NotAvailable } from './types.js';

export type Core = typeof import('@detour/core');

function why(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

export async function loadCore(): Promise<Core> {
  try {
    return await import('@detour/core');
  } catch (error) {
    throw new NotAvailable(`@detour/core does not load: ${why(error)}`);
  }
}

/** Each strategy package's factory (`tlsRelaxed(options)` and so on). */
const FACTORY = {
  'tls-relaxed': 'tlsRelaxed',
  curl: 'curl',
  'http-downgrade': 'httpDowngrade',
  placeholder: 'placeholder',
} as const;

/** A strategy package's strategy, built by its factory with these options, as a plugin. */
export async function strategyPlugin(
  name: 'tls-relaxed' | 'curl' | 'http-downgrade' | 'placeholder',
  options: Record<string, unknown> = {},
): Promise<Plugin> {
  let module: Record<string, unknown>;
  try {
    switch (name) {
      case 'tls-relaxed':
        module = await import('@detour/tls-relaxed');
        break;
      case 'curl':
        module = await import('@detour/curl');
        break;
      case 'http-downgrade':
        module = await import('@detour/http-downgrade');
        break;
      case 'placeholder':
        module = await import('@detour/placeholder');
        break;
    }
  } catch (error) {
    throw new NotAvailable(`@detour/${name} does not load: ${why(error)}`);
  }
  const make = module[FACTORY[name]];
  if (typeof make !== 'function') throw new NotAvailable(`@detour/${name} has no ${FACTORY[name]}()`);
  const { asPlugin } = await loadCore();
  return asPlugin(make(options));
}

/**
 * How a pipeline trusts the lab CA: through the default store when this process was started with
 * NODE_EXTRA_CA_CERTS = the lab CA (as `pnpm bench` does, see run.ts), like a public CDN's CA;
 * else through the `ca` option.
 */
export function labTrust(caPem: string, caPath: string): { options: PipelineOptions; label: string } {
  return process.env.NODE_EXTRA_CA_CERTS === caPath
    ? {
        options: { ca: undefined },
        label: 'default trust store (NODE_EXTRA_CA_CERTS = lab CA), no `ca` option',
      }
    : { options: { ca: caPem }, label: '`ca` option = lab CA' };
}

/** The options every benchmark pipeline shares: loopback allowed, the lab CA trusted. */
export function labPipelineOptions(ca: string, extra: PipelineOptions = {}): PipelineOptions {
  return { allowPrivateNetwork: true, ca, proxy: false, ...extra };
}

export async function labPipeline(ca: string, extra: PipelineOptions = {}): Promise<Pipeline> {
  const core = await loadCore();
  return core.createPipeline(labPipelineOptions(ca, extra));
}

/** `pipeline.fetch` (body buffered, hashed and checked) as a Client. */
export function detourClient(pipeline: Pipeline, name = 'detour'): Client {
  return {
    name,
    async get(url) {
      const result = await pipeline.fetch(url);
      return result.bytes;
    },
    close: () => pipeline.close(),
  };
}
