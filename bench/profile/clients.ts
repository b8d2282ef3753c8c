/**
 * The clients the profiling scripts share (not part of `pnpm bench`): got and Detour as figure 1
 * sets them up, Detour's transport alone, and Detour from another checkout (`AB_BASE`).
 */
import { rootCertificates } from 'node:tls';
import { pathToFileURL } from 'node:url';
import type { PipelineOptions } from '@detour/core';
import { BodyCheck } from '../../packages/core/src/body/body.js';
import { readBody } from '../../packages/core/src/body/read-body.js';
import { strictAttempt } from '../../packages/core/src/kit/strict-attempt.js';
import { Transport } from '../../packages/core/src/transport/transport.js';
import type { AttemptResponse } from '../../packages/core/src/types/index.js';
import { type Client, gotClient, undiciClient } from '../lib/clients.js';
import { detourClient, labPipeline } from '../lib/detour.js';
import { type LabProcess, startLabProcess } from '../lib/lab-process.js';

/** Figure 1's limits: the clients' 64 in flight never queue in Detour's limiter. */
export const PROFILE_LIMITS = { concurrency: { global: 64, perHost: 64 } };

/** Raw got, Detour with its defaults, and Detour without its cache. */
export async function baseClients(caPem: string): Promise<Client[]> {
  return [
    gotClient(caPem),
    detourClient(await labPipeline(caPem, PROFILE_LIMITS), 'detour'),
    detourClient(await labPipeline(caPem, { ...PROFILE_LIMITS, cache: false }), 'detour-nocache'),
  ];
}

/** Detour's transport over the agent pool, trusting the lab CA besides Node's roots. */
export function labTransport(caPem: string): { transport: Transport; tls: object } {
  return {
    transport: new Transport({}),
    tls: { rejectUnauthorized: true, ca: [...rootCertificates, caPem] },
  };
}

/** One request as the transport-level clients build it: the lab URL, a user agent, direct, the lab TLS. */
export interface LabRequest {
  url: URL;
  headers: Record<string, string>;
  route: { kind: 'direct' };
  tls: object;
  allowPrivateNetwork: true;
}

/**
 * A client below the pipeline: `send` makes the request (the transport alone, or the kit on top of
 * it), and the body is read and hashed under its rules, as `fetch()` does.
 */
export function belowPipelineClient(
  caPem: string,
  name: string,
  send: (transport: Transport, req: LabRequest, signal: AbortSignal) => Promise<AttemptResponse>,
): Client {
  const { transport, tls } = labTransport(caPem);
  return {
    name,
    async get(u: string) {
      const signal = new AbortController().signal;
      const req: LabRequest = {
        url: new URL(u),
        headers: { 'user-agent': 'detour/0.1' },
        route: { kind: 'direct' },
        tls,
        allowPrivateNetwork: true,
      };
      const res = await send(transport, req, signal);
      const check = new BodyCheck({ maxBytes: 1e9, expect: 'any' }, null);
      const body = await readBody(res.body, check, signal);
      return check.sha256 ? body.length : 0;
    },
    async close() {
      transport.close();
    },
  };
}

/** Detour's transport alone (no pipeline): the body read and hashed under its rules, as `fetch()` does. */
export function transportClient(caPem: string, name = 'transport'): Client {
  return belowPipelineClient(caPem, name, (transport, req, signal) =>
    transport.request(req as never, signal),
  );
}

/** Detour's transport under the kit's `strictAttempt` (redirects, retries): the strict strategy without the pipeline. */
export function kitClient(caPem: string, name = 'kit'): Client {
  const limits = { maxBytes: 1e9, maxRedirects: 5, maxRetries: 1, maxRetryAfterMs: 1000 };
  return belowPipelineClient(caPem, name, (transport, req, signal) =>
    strictAttempt({ ...req, transport, limits } as never, signal),
  );
}

/** The pipeline's services off (cache, circuit, route memory); with `UNLIMITED`, the limiter too. */
export const SERVICES_OFF = { cache: false, circuit: false, routeMemory: false } as const;
export const UNLIMITED = {
  concurrency: { global: Number.POSITIVE_INFINITY, perHost: Number.POSITIVE_INFINITY },
} as const;
/** The pipeline without its services: single flight, plan, orchestrator, strategy. */
export const BARE = { ...SERVICES_OFF, ...UNLIMITED } as const;

/**
 * Detour from another checkout of the repo (`AB_BASE`, its TypeScript sources: run under tsx, not
 * bundled), with and without its cache, in the same run as this tree's.
 */
export async function checkoutClients(caPem: string, checkout: string): Promise<Client[]> {
  const base = (await import(
    pathToFileURL(`${checkout}/packages/core/src/index.ts`).href
  )) as typeof import('@detour/core');
  const options = { allowPrivateNetwork: true, ca: caPem, proxy: false as const, ...PROFILE_LIMITS };
  return [
    detourClient(base.createPipeline(options), 'base'),
    detourClient(base.createPipeline({ ...options, cache: false }), 'base-nocache'),
  ];
}

/**
 * The lab and the client a profiling script names on its command line (happy-path.ts, alloc.ts):
 * got | undici | transport | kit | detour | detour-nocache | detour-tier16 | detour-bare | detour-system-trust (no
 * `ca` option; set NODE_EXTRA_CA_CERTS to the lab CA's file). ORIGINS lab HTTPS origins, and with
 * more than one Detour runs DETOUR_GLOBAL fetches at once (default 256 with more than one origin, figure 5's shape; 64 with one);
 * the caller spreads its fetches over `origins` round-robin.
 */
export async function labAndClient(
  which: string,
): Promise<{ lab: LabProcess; origins: string[]; client: Client }> {
  const count = Number(process.env.ORIGINS ?? 1);
  const lab = await startLabProcess(
    Object.fromEntries(Array.from({ length: count }, (_, i) => [`o${i}`, { kind: 'https' as const }])),
  );
  const origins = Object.values(lab.servers).map((server) => server.ipUrl);
  try {
    return { lab, origins, client: await makeClient(lab, which) };
  } catch (error) {
    await lab.close();
    throw error;
  }
}

/** One more client by name, for a lab `labAndClient()` started (chunks.ts compares several). */
export async function makeClient(lab: LabProcess, which: string): Promise<Client> {
  const many = Object.keys(lab.servers).length > 1;
  const global = Number(process.env.DETOUR_GLOBAL ?? (many ? 256 : 64));
  const limits = many ? { concurrency: { global } } : { concurrency: { global, perHost: global } };
  const detour = async (options: PipelineOptions) =>
    detourClient(await labPipeline(lab.caPem, options), which);
  const clients: Record<string, () => Client | Promise<Client>> = {
    got: () => gotClient(lab.caPem),
    undici: () => undiciClient(lab.caPem),
    transport: () => transportClient(lab.caPem),
    kit: () => kitClient(lab.caPem),
    detour: () => detour(limits),
    'detour-nocache': () => detour({ ...limits, cache: false }),
    // The default cache with a memory tier of 16 entries (256 by default): what holding bodies costs.
    'detour-tier16': () => detour({ ...limits, cache: { memory: { maxEntries: 16 } } }),
    'detour-bare': () => detour(BARE),
    'detour-system-trust': () => detour({ ...limits, ca: undefined }),
  };
  const make = clients[which];
  if (!make) throw new Error(`unknown client ${which} (one of ${Object.keys(clients).join(', ')})`);
  return make();
}
