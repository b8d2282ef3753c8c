/** The conformance suite itself can fail: broken strategies are caught by the check meant for them. */
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { type Lab, startLab } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AttemptRequest,
  type AttemptResponse,
  DIRECT,
  direct,
  routeFromProxyUrl,
  type Strategy,
  strictAttempt,
} from '../src/internal.js';
import { conformanceChecks, type TestStrategyOptions } from '../src/testing/index.js';

let lab: Lab;
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

async function failing(make: () => Strategy, check: string, extra: Partial<TestStrategyOptions> = {}) {
  const found = conformanceChecks({ make, lab: () => lab, ...extra }).find((c) => c.name.startsWith(check));
  if (!found) throw new Error(`no check ${check}`);
  return found.run().then(
    () => undefined,
    (error: unknown) => error,
  );
}

/** A well-behaved base to break one thing at a time. */
class Base implements Strategy {
  name = 'base';
  stage = 'fallback' as const;
  reason = 'a test strategy';
  rescues = 'any' as const;
  attempt(req: AttemptRequest, signal: AbortSignal): Promise<AttemptResponse> {
    return strictAttempt(req, signal);
  }
}

describe('conformance suite catches', () => {
  it('a malformed name or a missing stage', async () => {
    expect(
      await failing(() => Object.assign(new Base(), { name: 'Not A Name' }), 'has a well-formed'),
    ).toBeDefined();
    expect(
      await failing(() => Object.assign(new Base(), { stage: undefined as never }), 'has a well-formed'),
    ).toBeDefined();
  });

  it('an applies() that throws', async () => {
    const thrower = Object.assign(new Base(), {
      applies: (req: AttemptRequest) => {
        if (req.failures.length) throw new Error('boom');
        return true as const;
      },
    });
    expect(await failing(() => thrower, 'applies()')).toBeDefined();
  });

  it('a strategy that claims the proxy while going direct', async () => {
    class Liar extends Base {
      override async attempt(req: AttemptRequest, signal: AbortSignal) {
        const response = await strictAttempt(req, signal, { route: DIRECT });
        return { ...response, route: routeFromProxyUrl(lab.proxies.http.url) };
      }
    }
    expect(await failing(() => new Liar(), 'succeeds on the lab')).toBeDefined();
  });

  it('a strategy that ignores its signal', async () => {
    class Deaf extends Base {
      override attempt(req: AttemptRequest) {
        return strictAttempt(req, new AbortController().signal);
      }
    }
    expect(await failing(() => new Deaf(), 'rejects promptly')).toBeDefined();
    expect(await failing(() => new Deaf(), 'blocks a loopback target')).toBeUndefined(); // it still blocks
  });

  it('a strategy that leaks a socket past close()', async () => {
    const leaked: Socket[] = [];
    class Leaky extends Base {
      override async attempt(req: AttemptRequest, signal: AbortSignal) {
        leaked.push(connect(lab.http.port, '127.0.0.1'));
        return strictAttempt(req, signal);
      }
    }
    expect(await failing(() => new Leaky(), 'close() twice', { slackMs: 300 })).toBeDefined();
    for (const socket of leaked) socket.destroy();
  });

  it('a strategy whose flags do not match what it is', async () => {
    class Degraded extends Base {
      override async attempt(req: AttemptRequest, signal: AbortSignal) {
        return { ...(await strictAttempt(req, signal)), degraded: true };
      }
    }
    expect(await failing(() => new Degraded(), 'reports flags')).toBeDefined();
  });

  it('and passes core`s own direct', async () => {
    for (const check of conformanceChecks({ make: () => direct(), lab: () => lab })) await check.run();
  });
});

describe('flags come from facts (issue 23 item 1)', () => {
  it('a strategy that fetches https over plain http and says nothing is caught', async () => {
    class Sneaky extends Base {
      override attempt(req: AttemptRequest, signal: AbortSignal) {
        // The lab's plain-HTTP origin serves the same routes: bytes for an https request, in plaintext.
        return strictAttempt(req, signal, { url: new URL(`${lab.http.url}${req.url.pathname}`) });
      }
    }
    const error = await failing(() => new Sneaky(), 'cannot under-report');
    expect(String(error)).toMatch(/downgraded/);
    // Its own word was consistent with the flags it was told to carry (none): only the facts catch it.
    expect(await failing(() => new Sneaky(), 'reports flags')).toBeUndefined();
  });

  it('a strategy that skips certificate checks and says nothing is caught', async () => {
    class Unchecked extends Base {
      override attempt(req: AttemptRequest, signal: AbortSignal) {
        return strictAttempt(req, signal, { tls: { ...req.tls, rejectUnauthorized: false } });
      }
    }
    expect(String(await failing(() => new Unchecked(), 'cannot under-report'))).toMatch(/insecure/);
  });

  it('a strategy whose body comes from no reported exchange is degraded by the facts', async () => {
    class Invented extends Base {
      override async attempt(req: AttemptRequest) {
        return {
          status: 200,
          headers: { 'content-type': 'image/png' },
          body: Readable.from([Buffer.from('not from the origin')]),
          finalUrl: req.url.href,
          route: DIRECT,
        };
      }
    }
    expect(String(await failing(() => new Invented(), 'cannot under-report'))).toMatch(/degraded/);
  });
});
