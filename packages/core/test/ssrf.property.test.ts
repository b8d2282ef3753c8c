/**
 * Property tests for the private-address guard (issue 9, item 10): every spelling of a private
 * IPv4/IPv6 target is refused and public ones are not, judged through what the pipeline really
 * runs — `parseTargetUrl` then the transport's `assertPublicHost` — against an independent model
 * of the blocked ranges (integer arithmetic, not `net.BlockList`). No network, except one
 * property that points loopback spellings at a listener of its own and checks nothing connects.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPipeline, DetourError, isPrivateAddress, parseTargetUrl } from '../src/internal.js';
import { assertPublicHost } from '../src/transport/lookup.js';
import { fc, fuzzRuns, fuzzTimeout, settings } from './helpers/fuzz.js';

// ---------- the model: blocked IPv4 ranges, by arithmetic ----------
const V4_BLOCKED: Array<[string, number]> = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
const toInt = (dotted: string) => dotted.split('.').reduce((n, part) => n * 256 + Number(part), 0);
const dotted = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
const ranges = V4_BLOCKED.map(([base, prefix]) => {
  const start = toInt(base);
  return { start, end: start + 2 ** (32 - prefix) - 1 };
});
/** The model: is this IPv4 address (as an unsigned int) in a blocked range? */
const modelBlocked = (n: number) => ranges.some((r) => n >= r.start && n <= r.end);

const anyV4 = fc.integer({ min: 0, max: 0xffffffff });
const privateV4 = fc
  .tuple(fc.constantFrom(...ranges), fc.double({ min: 0, max: 1, noNaN: true }))
  .map(([r, f]) => Math.min(r.end, r.start + Math.floor(f * (r.end - r.start + 1))));
const publicV4 = anyV4.filter((n) => !modelBlocked(n));

// ---------- spellings ----------
type Base = 'dec' | 'oct' | 'hex';
const base = fc.constantFrom<Base>('dec', 'oct', 'hex');
function number(value: number, how: Base, zeros: number, upper: boolean): string {
  if (how === 'dec') return String(value);
  if (how === 'oct') return `0${'0'.repeat(zeros)}${value.toString(8)}`;
  const hex = `${'0'.repeat(zeros)}${value.toString(16)}`;
  return `${upper ? '0X' : '0x'}${upper ? hex.toUpperCase() : hex}`;
}
/** IPv4 in the WHATWG parser's forms: 1-4 parts, each decimal, octal or hex, with leading zeros. */
const v4Spelling = (address: fc.Arbitrary<number>) =>
  fc
    .tuple(
      address,
      fc.constantFrom(1, 2, 3, 4),
      fc.array(fc.tuple(base, fc.integer({ min: 0, max: 2 }), fc.boolean()), { minLength: 4, maxLength: 4 }),
      fc.boolean(),
    )
    .map(([n, parts, styles, trailingDot]) => {
      const bytes = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
      const values =
        parts === 4
          ? bytes
          : parts === 3
            ? [bytes[0]!, bytes[1]!, bytes[2]! * 256 + bytes[3]!]
            : parts === 2
              ? [bytes[0]!, (bytes[1]! << 16) + bytes[2]! * 256 + bytes[3]!]
              : [n];
      const text = values.map((v, i) => number(v, ...styles[i]!)).join('.');
      return { n, host: trailingDot ? `${text}.` : text };
    });

const h16 = (n: number) => n.toString(16);
/** IPv6 literals that carry the IPv4 address: mapped, SIIT, NAT64 well-known prefix, 6to4. */
const v6Carrying = (address: fc.Arbitrary<number>) =>
  fc
    .tuple(
      address,
      fc.constantFrom('mapped', 'mapped-hex', 'mapped-full', 'siit', 'nat64', 'nat64-hex', '6to4'),
      fc.boolean(),
    )
    .map(([n, form, upper]) => {
      const hi = h16(n >>> 16);
      const lo = h16(n & 0xffff);
      const text = {
        mapped: `::ffff:${dotted(n)}`,
        'mapped-hex': `::ffff:${hi}:${lo}`,
        'mapped-full': `0:0:0:0:0:ffff:${hi}:${lo}`,
        siit: `::ffff:0:${dotted(n)}`,
        nat64: `64:ff9b::${dotted(n)}`,
        'nat64-hex': `64:ff9b:0:0:0:0:${hi}:${lo}`,
        '6to4': `2002:${hi}:${lo}::1`,
      }[form]!;
      return { n, host: `[${upper ? text.toUpperCase() : text}]` };
    });

/** Private IPv6 that carries no IPv4: loopback, link-local, site-local, ULA (not fc00::/18), multicast, documentation, local-use NAT64. */
const word = fc.integer({ min: 0, max: 0xffff });
const privateV6 = fc.oneof(
  fc.constant('::1'),
  fc.constant('0:0:0:0:0:0:0:1'),
  word.map((w) => `fe80::${h16(w)}`),
  word.map((w) => `febf:${h16(w)}::1`),
  word.map((w) => `fec0::${h16(w)}`),
  fc.tuple(fc.integer({ min: 0x4000, max: 0xffff }), word).map(([a, b]) => `fc00:${h16(a)}::${h16(b)}`),
  fc.tuple(fc.integer({ min: 0xfd00, max: 0xfdff }), word).map(([a, b]) => `${h16(a)}:${h16(b)}::1`),
  word.map((w) => `ff02::${h16(w)}`),
  word.map((w) => `2001:db8:${h16(w)}::1`),
  fc.tuple(word, word).map(([a, b]) => `64:ff9b:1:${h16(a)}::${h16(b)}`),
);

/** Percent-encode some characters of a host (the URL parser decodes before it reads an address). */
const percentEncoded = (host: string) =>
  fc
    .array(fc.boolean(), { minLength: host.length, maxLength: host.length })
    .map((picks) =>
      [...host]
        .map((c, i) =>
          picks[i] && /[0-9a-z.]/i.test(c) ? `%${c.charCodeAt(0).toString(16).padStart(2, '0')}` : c,
        )
        .join(''),
    );

/** What the pipeline does with a URL before connecting: `blocked`, `ok`, or another outcome. */
function guard(url: string): string {
  try {
    assertPublicHost(parseTargetUrl(url));
    return 'ok';
  } catch (error) {
    return error instanceof DetourError ? error.failureClass : `threw ${String(error)}`;
  }
}

const runs = fuzzRuns(300);
const timeout = fuzzTimeout(runs, 2);

describe('private-address guard, every spelling (fast-check)', () => {
  it(
    'isPrivateAddress agrees with the range model on every IPv4 address',
    () => {
      fc.assert(
        fc.property(anyV4, (n) => isPrivateAddress(dotted(n)) === modelBlocked(n)),
        settings(runs * 4),
      );
    },
    timeout,
  );

  it(
    'refuses every IPv4 spelling of a private address (decimal, octal, hex, short forms, trailing dot)',
    () => {
      fc.assert(
        fc.property(v4Spelling(privateV4), ({ host }) => guard(`http://${host}/x`) === 'blocked'),
        settings(runs),
      );
    },
    timeout,
  );

  it(
    'accepts the same spellings of a public address',
    () => {
      fc.assert(
        fc.property(v4Spelling(publicV4), ({ host }) => guard(`https://${host}:8443/x`) === 'ok'),
        settings(runs),
      );
    },
    timeout,
  );

  it(
    'percent-encoding does not hide an address',
    () => {
      fc.assert(
        fc.property(
          v4Spelling(privateV4).chain(({ host }) => percentEncoded(host)),
          (host) => guard(`http://${host}/x`) === 'blocked',
        ),
        settings(runs),
      );
    },
    timeout,
  );

  it(
    'refuses IPv6 forms carrying a private IPv4 (mapped, SIIT, NAT64 64:ff9b::/96, 6to4) and accepts them carrying a public one',
    () => {
      fc.assert(
        fc.property(v6Carrying(privateV4), ({ host }) => guard(`http://${host}/x`) === 'blocked'),
        settings(runs),
      );
      fc.assert(
        fc.property(v6Carrying(publicV4), ({ host }) => guard(`http://${host}/x`) === 'ok'),
        settings(runs),
      );
    },
    timeout,
  );

  it(
    'refuses private IPv6 in any case, compressed or not, with or without a zone id',
    () => {
      fc.assert(
        fc.property(privateV6, fc.boolean(), fc.constantFrom('', '%25eth0', '%251'), (ip, upper, zone) => {
          const host = `[${upper ? ip.toUpperCase() : ip}${zone}]`;
          // A zone id makes the URL invalid (WHATWG): refused as bad input, still before any connection.
          return guard(`http://${host}/x`) === 'blocked';
        }),
        settings(runs),
      );
    },
    timeout,
  );
});

describe('allowPrivateNetwork: false refuses before connecting (fast-check, loopback only)', () => {
  let server: Server;
  let port = 0;
  let accepted = 0;
  beforeAll(async () => {
    server = createServer((socket) => {
      accepted++;
      socket.destroy();
    });
    // Dual-stack: a guard that let a spelling through would connect here (127/8, ::1, ::ffff:127/104).
    await new Promise<void>((resolve) => server.listen({ port: 0, host: '::', ipv6Only: false }, resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const loopbackV4 = fc.integer({ min: 0x7f000000, max: 0x7fffffff });
  const loopbackHost = fc.oneof(
    v4Spelling(loopbackV4).map(({ host }) => host),
    loopbackV4.map((n) => `[::ffff:${dotted(n)}]`),
    loopbackV4.map((n) => `[::FFFF:${h16(n >>> 16)}:${h16(n & 0xffff)}]`),
    fc.constantFrom('[::1]', '[0:0:0:0:0:0:0:1]', '[0000::0001]'),
  );
  const pipelineRuns = fuzzRuns(40, 0.1);

  it(
    'pipeline.fetch refuses every loopback spelling with blocked, and nothing connects',
    async () => {
      const pipeline = createPipeline({
        proxy: false,
        strategies: ['direct'],
        maxRetries: 0,
        timeoutMs: 5_000,
        cache: false,
        routeMemory: false,
        circuit: false,
      });
      try {
        await fc.assert(
          fc.asyncProperty(loopbackHost, async (host) => {
            const error = await pipeline.fetch(`http://${host}:${port}/x`).then(
              () => undefined,
              (e: unknown) => e,
            );
            return error instanceof DetourError && error.failureClass === 'blocked';
          }),
          settings(pipelineRuns),
        );
      } finally {
        await pipeline.close();
      }
      expect(accepted).toBe(0);
    },
    fuzzTimeout(pipelineRuns, 50),
  );
});
