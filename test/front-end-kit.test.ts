/**
 * Issue 24 item 2, one front-end kit: the CLI (the built `detour` binary) and `detour serve` (a
 * real child process answering real HTTP) check input with the same function and report a failure
 * with the same JSON. The same bad input gets the same message from both (the code is each
 * surface's documented one: DETOUR_USAGE with exit 2 from the CLI, DETOUR_BAD_REQUEST with HTTP
 * 400 from serve); the same failing URL gets a failure body with the same fields and values.
 */
import { type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../packages/serve/test/http.js';
import { detour } from './cli-run.js';
import { type RunningServe, startServe } from './serve-run.js';

let lab: Lab;
let server: RunningServe;
const POLICY = ['--allow-private', '--no-proxy', '--strategies', 'direct'];

beforeAll(async () => {
  lab = await startLab();
  server = await startServe(POLICY, { NODE_EXTRA_CA_CERTS: lab.caPath });
});
afterAll(async () => {
  await server?.stop('SIGKILL');
  await lab?.close();
});

interface Refusal {
  code: string;
  message: string;
}

/** `detour fetch URL --json ARGS`: exit 2 and the usage JSON on stdout. */
async function cliRefusal(args: string[]): Promise<Refusal> {
  const run = await detour(['fetch', `${lab.https.url}/image.png`, '--json', ...POLICY, ...args], {
    NODE_EXTRA_CA_CERTS: lab.caPath,
  });
  expect(run.code, run.stderr).toBe(2);
  const body = JSON.parse(run.stdout.toString()) as { ok: boolean; error: Refusal };
  expect(body.ok).toBe(false);
  // The same one line on stderr.
  expect(run.stderr).toBe(`detour fetch: ${body.error.message}\n`);
  return { code: body.error.code, message: body.error.message };
}

/** `GET /v1/fetch?url=…&QUERY` or `POST /v1/fetch` with `fields`: HTTP 400 and the failure body. */
async function serveRefusal(fields: Record<string, string | number>, post = false): Promise<Refusal> {
  const url = `${lab.https.url}/image.png`;
  const answer = post
    ? await call(`${server.url}/v1/fetch`, { body: { url, ...fields } })
    : await call(
        `${server.url}/v1/fetch?${new URLSearchParams({ url, ...Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)])) })}`,
      );
  expect(answer.status).toBe(400);
  const body = answer.json() as { ok: boolean; url: string; error: Refusal & { failureClass: string } };
  expect(body.ok).toBe(false);
  expect(body.url).toBe(url);
  expect(body.error.failureClass).toBe('blocked');
  return { code: body.error.code, message: body.error.message };
}

describe('one front-end kit: the same bad input, the same message', () => {
  it.each<[string, string[], Record<string, string | number>, boolean]>([
    ['an unknown expect kind', ['--expect', 'sound'], { expect: 'sound' }, false],
    ['an out-of-range timeout (0)', ['--timeout', '0'], { timeoutMs: 0 }, true],
    ['an out-of-range timeout (over a day)', ['--timeout', '86400001'], { timeoutMs: 86_400_001 }, true],
    ['an unknown convert target', ['--convert', 'flac'], { convert: 'flac' }, false],
    [
      'a sample rate the converter lacks',
      ['--convert', 'wav', '--sample-rate', '22050'],
      { convert: 'wav', sampleRate: '22050' },
      false,
    ],
    ['a sample rate without convert', ['--sample-rate', '16000'], { sampleRate: 16000 }, true],
    ['a negative expected size', ['--expect-bytes=-1'], { expectBytes: -1 }, true],
    ['a zero max size', ['--max-bytes', '0'], { maxBytes: 0 }, true],
  ])('%s', async (_what, args, fields, post) => {
    const cli = await cliRefusal(args);
    const served = await serveRefusal(fields, post);
    expect(served.message).toBe(cli.message);
    expect(cli.code).toBe('DETOUR_USAGE');
    expect(served.code).toBe('DETOUR_BAD_REQUEST');
  });

  it('a bad log level: detour fetch and detour serve refuse it with the same line', async () => {
    const fetchRun = await detour(['fetch', `${lab.https.url}/image.png`, '--log-level', 'loud']);
    const serveRun = await detour(['serve', '--port', '0', '--log-level', 'loud']);
    expect(fetchRun.code).toBe(2);
    expect(serveRun.code).toBe(2);
    const message =
      '--log-level / logLevel takes one of fatal, error, warn, info, debug, trace, silent, got "loud"';
    expect(fetchRun.stderr).toBe(`detour fetch: ${message}\n`);
    expect(serveRun.stderr).toBe(`detour serve: ${message}\n`);
  });
});

describe('one front-end kit: the same failure, the same JSON', () => {
  /** What may differ between two runs of the same failure: how long each attempt took. */
  const comparable = (body: Record<string, unknown>) => ({
    ...body,
    attempts: (body.attempts as Array<Record<string, unknown>>).map(({ ms: _ms, ...a }) => a),
  });

  it.each([
    ['a 404', '/status/404?rkey=SECRETRKEY'],
    ['a body that is not an image', '/html'],
  ])('%s: fetch --json and serve answer with the same fields and values', async (_what, path) => {
    const url = `${lab.https.url}${path}`;
    const expectImage = path === '/html';
    const run = await detour(
      ['fetch', url, '--json', '--no-cache', ...POLICY, ...(expectImage ? ['--expect', 'image'] : [])],
      { NODE_EXTRA_CA_CERTS: lab.caPath },
    );
    expect(run.code, run.stderr).toBe(1);
    const cli = JSON.parse(run.stdout.toString()) as Record<string, unknown>;
    const answer = await call(
      `${server.url}/v1/fetch?url=${encodeURIComponent(url)}${expectImage ? '&expect=image' : ''}`,
    );
    expect(answer.status).toBeGreaterThanOrEqual(400);
    const served = answer.json() as Record<string, unknown>;
    expect(Object.keys(served).sort()).toEqual(Object.keys(cli).sort());
    expect(Object.keys(served.error as object).sort()).toEqual(Object.keys(cli.error as object).sort());
    expect(comparable(served)).toEqual(comparable(cli));
    expect(cli).toMatchObject({
      ok: false,
      strategy: null,
      degraded: false,
      fromCache: false,
      plan: ['direct'],
    });
    expect(JSON.stringify(cli)).not.toContain('SECRETRKEY');
  });
});
