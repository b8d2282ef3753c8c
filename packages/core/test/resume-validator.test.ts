/**
 * Issue 22 item 11: resume only with a strong validator. A real origin on loopback cuts the first
 * download halfway, then the file changes before the resume. Without a validator, or with a 206
 * whose validator or range disagrees, the download restarts from zero: the result is one version
 * of the file, never two stitched together.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPipeline } from '../src/internal.js';

const SIZE = 200 * 1024;
const png = () =>
  Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(SIZE - 8)]);

interface Scenario {
  /** Headers that name the version (validators), per version. */
  validators: (version: number) => Record<string, string>;
  /** How a range request is answered: honestly, or a 206 of the new version whatever If-Range says. */
  ranges: 'if-range' | 'ignore-if-range' | 'wrong-range';
}

let server: Server;
let base: string;
const scenarios = new Map<string, { scenario: Scenario; versions: Buffer[]; requests: string[] }>();

function serve(req: IncomingMessage, res: ServerResponse): void {
  const name = new URL(req.url ?? '/', 'http://x').pathname.slice(1);
  const entry = scenarios.get(name);
  if (!entry) {
    res.writeHead(404).end();
    return;
  }
  const { scenario, versions, requests } = entry;
  const range = req.headers.range;
  requests.push(range ? `range ${range} if-range=${req.headers['if-range'] ?? '-'}` : 'whole');
  // The first request gets version 0, cut halfway; the file has changed (version 1) ever since.
  const version = requests.length === 1 ? 0 : 1;
  const body = versions[version]!;
  const validators = scenario.validators(version);
  const match = range ? /^bytes=(\d+)-$/.exec(range) : null;
  const ifRange = req.headers['if-range'];
  const honourRange =
    match &&
    (scenario.ranges !== 'if-range' || ifRange === undefined || Object.values(validators).includes(ifRange));
  if (honourRange) {
    const start = Number(match[1]) + (scenario.ranges === 'wrong-range' ? 1 : 0);
    res.writeHead(206, {
      'content-type': 'image/png',
      'content-length': body.length - start,
      'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
      'accept-ranges': 'bytes',
      ...validators,
    });
    res.end(body.subarray(start));
    return;
  }
  res.writeHead(200, {
    'content-type': 'image/png',
    'content-length': body.length,
    'accept-ranges': 'bytes',
    ...validators,
  });
  if (version === 0) {
    res.write(body.subarray(0, SIZE / 2), () => res.socket?.destroy()); // cut halfway
    return;
  }
  res.end(body);
}

beforeAll(async () => {
  server = createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function run(name: string, scenario: Scenario) {
  const versions = [png(), png()];
  const requests: string[] = [];
  scenarios.set(name, { scenario, versions, requests });
  const pipeline = createPipeline({
    allowPrivateNetwork: true,
    proxy: false,
    strategies: ['direct'],
    cache: false,
  });
  const result = await pipeline.fetch(`${base}/${name}`);
  await pipeline.close();
  return { result, versions, requests, attempt: result.attempts.at(-1)! };
}

describe('resume only with a strong validator (issue 22 item 11)', () => {
  it('no ETag, no Last-Modified: the changed file is downloaded again from zero, never stitched', async () => {
    const { result, versions, requests, attempt } = await run('none', {
      validators: () => ({}),
      ranges: 'if-range',
    });
    expect(requests).toEqual(['whole', 'whole']);
    expect(result.body.equals(versions[1]!)).toBe(true);
    expect(attempt).toMatchObject({ outcome: 'ok', restarts: 1 });
    expect(attempt.resumes).toBeUndefined();
    expect(result.degraded).toBe(false);
  });

  it('a weak ETag is no validator either', async () => {
    const { result, versions, requests } = await run('weak', {
      validators: (v) => ({ etag: `W/"v${v}"` }),
      ranges: 'ignore-if-range',
    });
    expect(requests).toEqual(['whole', 'whole']);
    expect(result.body.equals(versions[1]!)).toBe(true);
  });

  it('a strong ETag and an honest server: If-Range sent, the server answers 200, the new version whole', async () => {
    const { result, versions, requests } = await run('honest', {
      validators: (v) => ({ etag: `"v${v}"` }),
      ranges: 'if-range',
    });
    expect(requests).toEqual(['whole', `range bytes=${SIZE / 2}- if-range="v0"`]);
    expect(result.body.equals(versions[1]!)).toBe(true);
  });

  it('a 206 of another version (the server ignored If-Range) restarts from zero', async () => {
    const { result, versions, requests, attempt } = await run('liar', {
      validators: (v) => ({ etag: `"v${v}"` }),
      ranges: 'ignore-if-range',
    });
    expect(requests).toEqual(['whole', `range bytes=${SIZE / 2}- if-range="v0"`, 'whole']);
    expect(result.body.equals(versions[1]!)).toBe(true);
    expect(attempt.restarts).toBe(1);
  });

  it('a 206 of another range restarts from zero', async () => {
    const { result, versions, requests } = await run('wrong-range', {
      validators: () => ({ 'last-modified': 'Mon, 07 Dec 2026 00:00:00 GMT' }),
      ranges: 'wrong-range',
    });
    expect(requests.at(-1)).toBe('whole');
    expect(result.body.equals(versions[1]!)).toBe(true);
  });

  it('the same version (Last-Modified unchanged) resumes with one range request', async () => {
    const versions = png();
    const requests: string[] = [];
    scenarios.set('same', {
      scenario: {
        validators: () => ({ 'last-modified': 'Mon, 07 Dec 2026 00:00:00 GMT' }),
        ranges: 'if-range',
      },
      versions: [versions, versions],
      requests,
    });
    const pipeline = createPipeline({
      allowPrivateNetwork: true,
      proxy: false,
      strategies: ['direct'],
      cache: false,
    });
    const result = await pipeline.fetch(`${base}/same`);
    await pipeline.close();
    expect(requests).toEqual(['whole', `range bytes=${SIZE / 2}- if-range=Mon, 07 Dec 2026 00:00:00 GMT`]);
    expect(result.body.equals(versions)).toBe(true);
    expect(result.attempts.at(-1)!.resumes).toBe(1);
  });
});
