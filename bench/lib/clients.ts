/**
 * The clients Detour is compared with, each behind the same tiny interface: get a URL, buffer the
 * body, return its length. Every one keeps its connections alive across requests except curl,
 * which is one process per file by design.
 */
import { execFile } from 'node:child_process';
import https from 'node:https';
import got, { type Got } from 'got';
import { Agent, request } from 'undici';

export interface Client {
  readonly name: string;
  get(url: string): Promise<number>;
  close(): Promise<void>;
}

/** The agent settings Detour's AgentPool uses for a route (see packages/core/src/transport/agents.ts). */
export const DETOUR_AGENT_SETTINGS = {
  keepAlive: true,
  maxSockets: 64,
  maxFreeSockets: 16,
  scheduling: 'lifo',
} as const;

/** Raw got over a keep-alive https.Agent configured like Detour's. */
export function gotClient(ca: string, agentOptions: https.AgentOptions = DETOUR_AGENT_SETTINGS): Client {
  const agent = new https.Agent(agentOptions);
  const client: Got = got.extend({
    agent: { https: agent },
    https: { certificateAuthority: ca },
    retry: { limit: 0 },
  });
  return {
    name: 'got',
    async get(url) {
      const body = await client(url).buffer();
      return body.length;
    },
    async close() {
      agent.destroy();
    },
  };
}

/** undici's `request` over an Agent with as many connections per origin as Detour's sockets. */
export function undiciClient(ca: string, connections: number = DETOUR_AGENT_SETTINGS.maxSockets): Client {
  const dispatcher = new Agent({ connections, connect: { ca } });
  return {
    name: 'undici',
    async get(url) {
      const { statusCode, body } = await request(url, { dispatcher });
      const bytes = Buffer.from(await body.arrayBuffer());
      if (statusCode !== 200) throw new Error(`status ${statusCode}`);
      return bytes.length;
    },
    async close() {
      await dispatcher.close();
    },
  };
}

/** One `curl` process per file (no connection reuse), body to /dev/null, size from `-w`. */
export function curlClient(caPath: string, curlPath = 'curl'): Client {
  return {
    name: 'curl',
    get(url) {
      return new Promise((resolve, reject) => {
        execFile(
          curlPath,
          [
            '-sS',
            '--fail',
            '--noproxy',
            '*',
            '--cacert',
            caPath,
            '-o',
            '/dev/null',
            '-w',
            '%{size_download}',
            url,
          ],
          { encoding: 'utf8' },
          (error, stdout) => (error ? reject(error) : resolve(Number(stdout))),
        );
      });
    },
    async close() {},
  };
}

/** Whether `curl` runs at all (the figures that need it print n/a otherwise). */
export function curlVersion(curlPath = 'curl'): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(curlPath, ['--version'], { encoding: 'utf8' }, (error, stdout) =>
      resolve(error ? undefined : stdout.split('\n')[0]),
    );
  });
}
