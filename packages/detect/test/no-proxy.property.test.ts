/**
 * Property test (issue 9, item 10): the NO_PROXY matcher agrees with a small reference model.
 * Entries are generated as structures, rendered to text the way users write them (any case, `.`
 * or `*.` prefixes, trailing dots, ports, CIDR, commas and spaces), parsed by `parseNoProxy`, and
 * `matchesNoProxy` must answer what the model answers on the structures.
 */
import { describe, it } from 'vitest';
import { fc, fuzzRuns, fuzzTimeout, settings } from '../../core/test/helpers/fuzz.js';
import { matchesNoProxy, parseNoProxy, proxyForUrl } from '../src/index.js';

type Entry =
  | { kind: 'all' }
  | { kind: 'host'; host: string; ip: boolean; port?: number }
  | { kind: 'cidr'; base: number; prefix: number };

const label = fc.constantFrom('a', 'b', 'cdn', 'qq', 'example', 'com', 'cn');
const domain = fc.array(label, { minLength: 1, maxLength: 3 }).map((labels) => labels.join('.'));
const ipv4 = fc
  .tuple(fc.constantFrom(10, 127, 192, 8), fc.nat(3), fc.nat(3), fc.nat(255))
  .map(([a, b, c, d]) => (((a << 24) >>> 0) + (b << 16) + (c << 8) + d) >>> 0);
const dotted = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
const port = fc.constantFrom(80, 443, 8080);

const entry: fc.Arbitrary<Entry> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<Entry>({ kind: 'all' }) },
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.oneof(
          domain.map((h) => ({ h, ip: false })),
          ipv4.map((n) => ({ h: dotted(n), ip: true })),
        ),
        fc.option(port, { nil: undefined }),
      )
      .map(
        ([{ h, ip }, p]): Entry => ({ kind: 'host', host: h, ip, ...(p === undefined ? {} : { port: p }) }),
      ),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(ipv4, fc.integer({ min: 0, max: 32 }))
      .map(([base, prefix]): Entry => ({ kind: 'cidr', base, prefix })),
  },
);

/** One entry as a user may write it. */
const rendered = (e: Entry) =>
  fc.tuple(fc.boolean(), fc.constantFrom('', '.', '*.'), fc.boolean()).map(([upper, lead, trailingDot]) => {
    if (e.kind === 'all') return '*';
    if (e.kind === 'cidr') return `${dotted(e.base)}/${e.prefix}`;
    const name = e.ip ? e.host : `${lead}${e.host}${trailingDot ? '.' : ''}`;
    const text = e.port === undefined ? name : `${name}:${e.port}`;
    return upper ? text.toUpperCase() : text;
  });

const noProxy = fc.array(entry, { maxLength: 5 }).chain((entries) =>
  fc
    .tuple(
      ...entries.map(rendered),
      fc.array(fc.constantFrom(',', ', ', ' ', ' , '), { minLength: 5, maxLength: 5 }),
    )
    .map((parts) => {
      const seps = parts.pop() as string[];
      const texts = parts as string[];
      return { entries, text: texts.map((t, i) => (i ? seps[i - 1] : '') + t).join('') };
    }),
);

const toInt = (host: string) => host.split('.').reduce((n, p) => n * 256 + Number(p), 0);
const isV4 = (host: string) => /^\d+\.\d+\.\d+\.\d+$/.test(host);

/** The model: curl's documented NO_PROXY rules, on the structures. */
function model(host: string, p: number, entries: readonly Entry[]): boolean {
  return entries.some((e) => {
    if (e.kind === 'all') return true;
    if (e.kind === 'cidr') {
      if (!isV4(host)) return false;
      const size = 2 ** (32 - e.prefix);
      return Math.floor(toInt(host) / size) === Math.floor(e.base / size);
    }
    if (e.port !== undefined && e.port !== p) return false;
    return host === e.host || (!isV4(host) && host.endsWith(`.${e.host}`));
  });
}

const target = fc.tuple(
  fc.oneof(
    domain.map((h) => ({ h, ip: false })),
    ipv4.map((n) => ({ h: dotted(n), ip: true })),
  ),
  port,
  fc.boolean(),
  fc.boolean(),
);

const runs = fuzzRuns(500);

describe('NO_PROXY matcher (fast-check)', () => {
  it(
    'agrees with the reference model',
    () => {
      fc.assert(
        fc.property(noProxy, target, ({ entries, text }, [{ h, ip }, p, upper, trailingDot]) => {
          const spelled = `${upper ? h.toUpperCase() : h}${trailingDot && !ip ? '.' : ''}`;
          return matchesNoProxy(spelled, p, parseNoProxy(text)) === model(h, p, entries);
        }),
        settings(runs),
      );
    },
    fuzzTimeout(runs, 2),
  );

  it(
    'proxyForUrl goes direct exactly when the model matches (default ports from the scheme)',
    () => {
      fc.assert(
        fc.property(noProxy, target, ({ entries, text }, [{ h }, p]) => {
          const scheme = p === 443 ? 'https' : 'http';
          const url = `${scheme}://${h}${p === 80 || p === 443 ? '' : `:${p}`}/x`;
          const env = {
            https_proxy: 'http://127.0.0.1:7890',
            http_proxy: 'http://127.0.0.1:7890',
            no_proxy: text,
          };
          return (proxyForUrl(url, env) === null) === model(h, p, entries);
        }),
        settings(runs),
      );
    },
    fuzzTimeout(runs, 2),
  );
});
