/**
 * Stopping serve is not a failure (issue 23 item 15): the start command the README documents,
 * run as written (plus --port 0), stops on SIGTERM and on SIGINT with exit 0, nothing on stderr
 * but its own lines, and an in-flight download still finishes.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe } from './serve-run.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The command line of the README's "Start the service" block, without its comment. */
function documentedCommand(): string[] {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const section = readme.slice(readme.indexOf('### Start the service'));
  const block = /```sh\n([^\n]+)\n/.exec(section)?.[1] ?? '';
  return block.replace(/#.*$/, '').trim().split(/\s+/);
}

let lab: Lab;
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

describe('the documented start command', () => {
  it('is the bin itself, no package-manager wrapper', () => {
    const command = documentedCommand();
    expect(command.slice(0, 2)).toEqual(['./node_modules/.bin/detour', 'serve']);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('%s: a clean stop, exit 0, no failure printed', async (signal) => {
    const [bin, ...args] = documentedCommand();
    const serve = await startServe(
      ['--port', '0', '--allow-private', '--no-proxy'],
      { NODE_EXTRA_CA_CERTS: lab.caPath },
      30_000,
      [`${root}${bin!.replace(/^\.\//, '')}`, ...args],
    );
    // A download in flight when the signal comes still completes.
    const slow = fetch(
      `${serve.url}/v1/fetch?url=${encodeURIComponent(`${lab.https.url}/slow-drip?ms=100&bytes=8`)}`,
    ).then(async (r) => ({ status: r.status, bytes: (await r.arrayBuffer()).byteLength }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await serve.stop(signal)).toBe(0);
    expect(await slow).toEqual({ status: 200, bytes: 8 });
    const stderr = serve.stderr();
    expect(stderr).toContain(`${signal}: finishing in-flight fetches`);
    expect(stderr).not.toMatch(/ELIFECYCLE|Command failed|internal error/);
  });
});
