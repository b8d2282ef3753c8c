/**
 * `@detour/core/testing`: the conformance suite every strategy runs (the built-in ones in their
 * packages, yours in your own tests). It drives `strategy.attempt()` the way the orchestrator does
 * — a real `Transport`, an attempt signal with a deadline — against a lab of real servers on
 * loopback (`@detour/lab`'s `startLab()` fits `ConformanceLab`), and checks the contract:
 *
 * - `name`, `rescues`, `stage`, `reason` are well formed;
 * - `applies()` never throws, and answers `true` or a reason;
 * - an aborted signal (before, or in the middle of the body) ends the attempt promptly;
 * - the attempt deadline holds (a stalled body ends by it);
 * - the route the response reports is the route really used (the lab's proxy sees the request, or not);
 * - `allowPrivateNetwork: false` blocks a loopback target;
 * - `close()` twice leaves no socket and no child process behind;
 * - the flags (`insecure`, `downgraded`, `degraded`) match what the strategy is;
 * - the flags hold when the strategy lies: its answer stripped of every flag, the pipeline's rule
 *   (what the transport and `reportHop` saw, the stage) still gives the flags it must carry, and
 *   a strategy whose exchanges say more than its flags (plaintext, an unchecked certificate) fails.
 *
 * ```ts
 * import { testStrategy } from '@detour/core/testing';
 * import { startLab, type Lab } from '@detour/lab';
 * let lab: Lab;
 * beforeAll(async () => { lab = await startLab(); });
 * afterAll(() => lab.close());
 * testStrategy({ make: () => mirror({ ... }), lab: () => lab });
 * ```
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { classifyError } from '../classify.js';
import { AttemptSignal } from '../run/attempt-signal.js';
import { flagsOf, Witness } from '../run/witness.js';
import { routeFromProxyUrl } from '../transport/agents.js';
import { Transport } from '../transport/transport.js';
import {
  type AttemptRecord,
  type AttemptRequest,
  type AttemptResponse,
  DIRECT,
  FAILURE_CLASSES,
  type Route,
  STAGES,
  type Strategy,
} from '../types/index.js';

/** What the suite needs of a lab (`@detour/lab`'s `Lab` has all of it). */
export interface ConformanceLab {
  /** PEM of the CA that signed the origins' certificates. */
  readonly ca: string;
  /** HTTPS origin serving `/image.png`, `/slow-drip`, `/stall-after-headers` on `https://localhost:PORT`. */
  readonly https: { readonly url: string; readonly port: number };
  /** The same routes over plain HTTP. */
  readonly http: { readonly url: string; readonly port: number };
  /** A real HTTP CONNECT proxy whose `log()` names every CONNECT it served (tinyproxy). */
  readonly proxies: { readonly http: { readonly url: string; log(): string } };
}

export interface TestStrategyOptions {
  /** A label for the describe block (default `strategy`). */
  label?: string;
  /** A fresh strategy; called for every check (the lab is up by then). */
  make(lab: ConformanceLab): Strategy | Promise<Strategy>;
  /** The lab, started by the caller (a getter, since it starts in `beforeAll`). */
  lab: () => ConformanceLab;
  /** The origin the strategy is asked for (default `https`). */
  origin?: 'https' | 'http';
  /**
   * The route the environment hands the strategy (default `direct`); `proxy` = the lab's HTTP
   * proxy, for strategies that only apply with a proxy in the way (`direct-bypass`).
   */
  route?: 'direct' | 'proxy';
  /** Failures already seen in the fetch, for strategies that only apply after one (default none). */
  failures?: readonly AttemptRecord[];
  /** Flags the strategy's answer must carry (default none: strict, real, checked). */
  flags?: { insecure?: boolean; downgraded?: boolean; degraded?: boolean };
  /** Process ids of children the strategy runs now (curl's `pids`), to prove none survives `close()`. */
  children?: (strategy: Strategy) => readonly number[];
  /** Per-check time allowance in ms on top of the deadline (default 2000; a loaded CI box is slow). */
  slackMs?: number;
}

const NAME = /^[a-z][a-z0-9-]*$/;

/** One check of the suite: a name and a function that throws when the strategy fails it. */
export interface ConformanceCheck {
  readonly name: string;
  /** Why the check does not apply to this strategy (it is then reported as skipped with this reason). */
  readonly skip?: string | undefined;
  run(): Promise<void>;
}

/** The checks, to run by hand (the suite's own tests feed it broken strategies and expect failures). */
export function conformanceChecks(options: TestStrategyOptions): ConformanceCheck[] {
  const suite = new Suite(options);
  const offline = options.flags?.degraded
    ? 'a degraded stand-in makes no request: no body to stop, no target to block'
    : undefined;
  return [
    { name: 'has a well-formed name, rescues, stage and reason', run: () => suite.wellFormed() },
    { name: 'applies() never throws and answers true or a reason', run: () => suite.appliesTotal() },
    { name: 'succeeds on the lab, through the route it reports', run: () => suite.routeIsReal() },
    { name: 'reports flags consistent with what it is', run: () => suite.flagsConsistent() },
    { name: 'cannot under-report its flags: they come from facts', run: () => suite.flagsFromFacts() },
    { name: 'rejects promptly when the signal is already aborted', run: () => suite.preAborted() },
    { name: 'ends the body promptly when aborted mid-body', skip: offline, run: () => suite.midBodyAbort() },
    { name: 'holds the attempt deadline on a stalled body', skip: offline, run: () => suite.deadlineHolds() },
    {
      name: 'blocks a loopback target unless allowPrivateNetwork',
      skip: offline,
      run: () => suite.privateBlocked(),
    },
    { name: 'close() twice leaves no socket and no child process', run: () => suite.closeTwice() },
  ];
}

/** Register the conformance checks for one strategy in the current vitest file. */
export function testStrategy(options: TestStrategyOptions): void {
  describe(`conformance: ${options.label ?? 'strategy'}`, () => {
    for (const check of conformanceChecks(options)) {
      if (check.skip) it.skip(`${check.name} (skipped: ${check.skip})`, () => {});
      else it(check.name, () => check.run());
    }
  });
}

class Suite {
  readonly #o: TestStrategyOptions;
  constructor(options: TestStrategyOptions) {
    this.#o = options;
  }

  get #slack(): number {
    return this.#o.slackMs ?? 2_000;
  }

  get #network(): boolean {
    return !this.#o.flags?.degraded;
  }

  async wellFormed(): Promise<void> {
    const s = await this.#make();
    expect(s.name).toMatch(NAME);
    if (s.rescues !== 'first' && s.rescues !== 'any') {
      expect(s.rescues).toBeInstanceOf(Set);
      for (const c of s.rescues) expect(FAILURE_CLASSES).toContain(c);
    }
    expect(STAGES, `stage of ${s.name}`).toContain(s.stage);
    expect(typeof s.reason === 'string' && s.reason.trim().length > 0, `reason of ${s.name}`).toBe(true);
    expect(typeof s.attempt).toBe('function');
    await s.close?.();
  }

  async appliesTotal(): Promise<void> {
    const s = await this.#make();
    const lab = this.#o.lab();
    const failed = (failureClass: AttemptRecord['failureClass']): AttemptRecord => ({
      strategy: 'direct',
      route: 'direct',
      outcome: 'failed',
      failureClass,
      ms: 1,
    });
    const transport = new Transport();
    try {
      for (const origin of [lab.https.url, lab.http.url, 'https://example.invalid'])
        for (const route of [DIRECT, routeFromProxyUrl(lab.proxies.http.url)])
          for (const failures of [
            [],
            [failed('tls-handshake')],
            [failed('http-status'), failed('timeout')],
          ]) {
            const req = this.#request(transport, { url: new URL(`${origin}/image.png`), route, failures });
            const answer = s.applies?.(req) ?? true;
            expect(answer === true || (typeof answer === 'string' && answer.length > 0)).toBe(true);
          }
    } finally {
      transport.close();
      await s.close?.();
    }
  }

  async routeIsReal(): Promise<void> {
    const lab = this.#o.lab();
    const proxied = routeFromProxyUrl(lab.proxies.http.url);
    // Any request for a lab origin the proxy served (a downgrade goes to another port).
    const seen = () => count(lab.proxies.http.log(), 'localhost:');
    const before = seen();
    const { response, body } = await this.#attempt({ route: proxied });
    expect(response.status).toBe(200);
    expect(body.length).toBeGreaterThan(0);
    if (response.route.kind === 'direct') {
      await new Promise((r) => setTimeout(r, 200)); // tinyproxy writes its log as it goes
      expect(seen(), 'the response says direct, but the proxy served it').toBe(before);
    } else {
      expect(response.route).toEqual(proxied);
      await eventually(() => seen() > before, 2_000, 'the response says proxy, but the proxy never saw it');
    }
    if (!this.#network) expect(response.degraded).toBe(true);
  }

  async flagsConsistent(): Promise<void> {
    const s = await this.#make();
    const want = this.#o.flags ?? {};
    try {
      const { response } = await this.#attempt({ strategy: s });
      expect(!!response.insecure, 'insecure').toBe(!!want.insecure);
      expect(!!response.downgraded, 'downgraded').toBe(!!want.downgraded);
      expect(!!response.degraded, 'degraded').toBe(!!want.degraded);
      // What the strategy declares must agree with what it did.
      expect(!!response.degraded).toBe(s.stage === 'last-resort');
      if (response.downgraded) {
        expect(s.plaintext).toBe(true);
        expect(new URL(response.finalUrl).protocol).toBe('http:');
      }
      if (response.degraded) expect(response.degradedReason ?? '').not.toBe('');
    } finally {
      await s.close?.();
    }
  }

  /**
   * The strategy made to lie (every flag dropped from its answer): the pipeline's flags, from what
   * the clients saw and the stage, are still the ones it must carry; and no more than those.
   */
  async flagsFromFacts(): Promise<void> {
    const s = await this.#make();
    const want = this.#o.flags ?? {};
    const liar: Strategy = {
      name: s.name,
      rescues: s.rescues,
      ...(s.stage ? { stage: s.stage } : {}),
      ...(s.applies ? { applies: (req: AttemptRequest) => s.applies!(req) } : {}),
      attempt: async (req, signal) => {
        const {
          insecure: _i,
          downgraded: _d,
          degraded: _g,
          degradedReason: _r,
          ...rest
        } = await s.attempt(req, signal);
        return rest;
      },
    };
    const witness = new Witness();
    try {
      const { response, url } = await this.#attempt({ strategy: liar, witness });
      const flags = flagsOf(url, response, s.stage, witness);
      expect(flags.insecure, 'insecure (from facts)').toBe(!!want.insecure);
      expect(flags.downgraded, 'downgraded (from facts)').toBe(!!want.downgraded);
      expect(flags.degraded, 'degraded (from facts)').toBe(!!want.degraded);
    } finally {
      await s.close?.();
    }
  }

  async preAborted(): Promise<void> {
    const controller = new AbortController();
    controller.abort(new Error('caller gave up'));
    const s = await this.#make();
    const transport = new Transport();
    const started = Date.now();
    try {
      // The strategy itself must refuse (not merely hand back a body the orchestrator then drops).
      const outcome = await s
        .attempt(this.#request(transport, { route: this.#route() }), controller.signal)
        .then(
          (response) => {
            response.body.destroy();
            return 'resolved';
          },
          () => 'rejected',
        );
      expect(outcome, 'an attempt under an aborted signal must reject').toBe('rejected');
      expect(Date.now() - started).toBeLessThan(this.#slack);
    } finally {
      transport.close();
      await s.close?.();
    }
  }

  async midBodyAbort(): Promise<void> {
    const controller = new AbortController();
    const started = Date.now();
    const run = this.#attempt({ caller: controller.signal, path: '/slow-drip?ms=200&bytes=200' });
    setTimeout(() => controller.abort(new Error('caller gave up')), 300);
    await expect(run).rejects.toBeDefined();
    expect(Date.now() - started).toBeLessThan(300 + this.#slack);
  }

  async deadlineHolds(): Promise<void> {
    const started = Date.now();
    const error = await this.#attempt({ path: '/stall-after-headers', deadlineMs: 500 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error, 'a stalled body must fail').toBeDefined();
    expect(Date.now() - started).toBeLessThan(500 + this.#slack);
  }

  async privateBlocked(): Promise<void> {
    const error = await this.#attempt({ allowPrivateNetwork: false }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error, 'a loopback target must be refused').toBeDefined();
    expect(classifyError(error).failureClass).toBe('blocked');
  }

  async closeTwice(): Promise<void> {
    const before = { sockets: openSocketCount(), children: childPids().length };
    const s = await this.#make();
    await this.#attempt({ strategy: s, keepStrategy: true });
    // One attempt still streaming when close() comes (the pipeline then aborts it, as here).
    const controller = new AbortController();
    const slow = this.#attempt({
      strategy: s,
      keepStrategy: true,
      caller: controller.signal,
      path: '/slow-drip?ms=200&bytes=100',
    });
    slow.catch(() => {});
    await new Promise((r) => setTimeout(r, 150));
    await s.close?.();
    await s.close?.();
    controller.abort(new Error('pipeline closed'));
    await slow.catch(() => {});
    if (this.#o.children) expect(this.#o.children(s)).toEqual([]);
    await eventually(
      () => childPids().length <= before.children,
      this.#slack,
      'a child process outlived close()',
    );
    await eventually(() => openSocketCount() <= before.sockets, this.#slack, 'a socket outlived close()');
  }

  #origin(): string {
    const lab = this.#o.lab();
    return this.#o.origin === 'http' ? lab.http.url : lab.https.url;
  }

  #route(): Route {
    return this.#o.route === 'proxy' ? routeFromProxyUrl(this.#o.lab().proxies.http.url) : DIRECT;
  }

  async #make(): Promise<Strategy> {
    return this.#o.make(this.#o.lab());
  }

  #request(transport: Transport, over: Partial<AttemptRequest>): AttemptRequest {
    const lab = this.#o.lab();
    return {
      url: new URL(`${this.#origin()}/image.png`),
      headers: { 'user-agent': 'detour-conformance', accept: '*/*' },
      route: DIRECT,
      tls: { rejectUnauthorized: true, ca: [...rootCertificates, lab.ca], extraCaPem: lab.ca },
      limits: { maxBytes: 8 * 1024 * 1024, maxRedirects: 5, maxRetries: 0, maxRetryAfterMs: 1_000 },
      expect: 'any',
      deadline: Date.now() + 10_000,
      allowPrivateNetwork: true,
      failures: this.#o.failures ?? [],
      logger: pino({ level: 'silent' }),
      transport,
      ...over,
    };
  }

  /**
   * One attempt as the orchestrator makes it, body read to the end (or until it fails). The
   * strategy is closed afterwards unless `keepStrategy`; the transport always is.
   */
  async #attempt(p: AttemptParams = {}): Promise<{ response: AttemptResponse; body: Buffer; url: URL }> {
    const s = p.strategy ?? (await this.#make());
    const transport = new Transport();
    const deadline = Date.now() + (p.deadlineMs ?? 10_000);
    const req = this.#request(transport, {
      url: new URL(`${this.#origin()}${p.path ?? '/image.png'}`),
      route: p.route ?? this.#route(),
      deadline,
      allowPrivateNetwork: p.allowPrivateNetwork ?? true,
      // As the orchestrator hands it: the exchanges reported to the witness, when one is given.
      ...(p.witness ? { transport: p.witness.transport(transport), reportHop: p.witness.report } : {}),
    });
    const signal = new AttemptSignal(deadline, p.caller);
    try {
      const applies = s.applies?.(req) ?? true;
      if (applies !== true)
        throw new Error(
          `testStrategy: ${s.name} does not apply to the suite's request (${applies}); adjust make/origin/route/failures`,
        );
      const response = await s.attempt(req, signal.signal);
      const body = await readAll(response, deadline - Date.now() + this.#slack + 1_000);
      // A body that ends cleanly although the caller aborted was not stopped by the strategy.
      if (p.caller?.aborted) throw new Error('the body ended normally after the caller aborted');
      return { response, body, url: req.url };
    } finally {
      signal.dispose();
      transport.close();
      if (!p.keepStrategy) await s.close?.();
    }
  }
}

interface AttemptParams {
  strategy?: Strategy;
  keepStrategy?: boolean;
  route?: Route;
  path?: string;
  caller?: AbortSignal;
  deadlineMs?: number;
  allowPrivateNetwork?: boolean;
  witness?: Witness;
}

/**
 * The whole body. Ending it on abort is the strategy's job (its body must error when its signal
 * aborts); the reader only gives up after `capMs`, so a strategy that ignores its signal fails the
 * time bound instead of hanging the suite.
 */
async function readAll(response: AttemptResponse, capMs: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const cap = setTimeout(() => response.body.destroy(new Error(`body still open after ${capMs} ms`)), capMs);
  try {
    for await (const chunk of response.body) chunks.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks);
  } finally {
    clearTimeout(cap);
    response.body.destroy();
  }
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

async function eventually(check: () => boolean, withinMs: number, message: string): Promise<void> {
  const until = Date.now() + withinMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(message);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Sockets this process holds (Linux: /proc/self/fd); 0 where /proc is missing (the check then passes). */
export function openSocketCount(): number {
  try {
    return readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:');
      } catch {
        return false;
      }
    }).length;
  } catch {
    return 0;
  }
}

/** Live child processes of this process (Linux: /proc/<pid>/stat); [] where /proc is missing. */
export function childPids(): number[] {
  try {
    return readdirSync('/proc').flatMap((entry) => {
      if (!/^\d+$/.test(entry)) return [];
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(fields[1]) === process.pid && fields[0] !== 'Z' ? [Number(entry)] : [];
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
}

export { type TestPresetOptions, testPreset } from './test-preset.js';
