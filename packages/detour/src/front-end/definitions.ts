/**
 * The front-end kit's option definitions (issue 24 item 2): every knob the CLI (`fetch`, `serve`),
 * the HTTP service and the Koishi plugin share, described once (name, flag, type, default, allowed
 * values, description) with the one function that turns raw input (CLI strings, query strings,
 * JSON numbers, Koishi config) into typed options or a `FrontEndUsageError` (one message per
 * problem, the same words on every surface).
 */
import {
  CONVERT_TARGETS,
  type ConvertTarget,
  DEFAULTS,
  DetourUsageError,
  EXPECT_KINDS,
  type ExpectKind,
  HEADER_PROFILES,
} from '@detour/core';
import { checkHeader, SAMPLE_RATES } from '@detour/core/internal';
import { BUILTIN_PRESETS } from '../index.js';

/** Detour's log levels (pino's), quietest last. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The expect kinds and convert targets are core's: one list, read, never copied. */
export { CONVERT_TARGETS, EXPECT_KINDS, SAMPLE_RATES };

/** A timer longer than Node's 2^31 - 1 ms fires at once: a day is the longest deadline taken. */
export const MAX_TIMEOUT_MS = 86_400_000;

/** Bad input to a front-end: which option, and one message that says what it takes. */
export class FrontEndUsageError extends DetourUsageError {
  /** The option's name (`expect`, `timeoutMs`, ...), as in `OPTIONS`. */
  readonly option: string;
  constructor(option: string, message: string) {
    super(message, 'DETOUR_BAD_OPTION');
    this.option = option;
  }
}

/** What a front-end hands over: a CLI string, repeated strings, a query value, a JSON value. */
export type RawValue = string | number | boolean | readonly string[] | Record<string, unknown> | null;

export interface OptionDefinition<T = unknown> {
  /** The name in the HTTP API, the Koishi config and the error's `option`. */
  name: string;
  /** The CLI flag. */
  flag: string;
  type: 'enum' | 'integer' | 'boolean' | 'list' | 'string' | 'size' | 'map';
  /** The default the pipeline applies when the option is absent (undefined: none, or detected). */
  default?: T | undefined;
  /** The values allowed, when they are a closed list. */
  values?: readonly (string | number)[] | undefined;
  /** Bounds of an integer. */
  min?: number | undefined;
  max?: number | undefined;
  description: string;
  /** Raw input → the typed value; throws `FrontEndUsageError`. */
  parse(raw: RawValue): T;
}

/** How a message names an option: the flag, and the field when it is spelled otherwise. */
export function optionLabel(def: Pick<OptionDefinition, 'name' | 'flag'>): string {
  return def.flag === `--${def.name}` ? def.flag : `${def.flag} / ${def.name}`;
}

/** The value as the user typed it, quoted alike whether it came as a string or a JSON number. */
const given = (raw: RawValue) => JSON.stringify(typeof raw === 'object' && raw !== null ? raw : String(raw));

const fail = (def: Pick<OptionDefinition, 'name' | 'flag'>, takes: string, raw: RawValue): never => {
  throw new FrontEndUsageError(def.name, `${optionLabel(def)} takes ${takes}, got ${given(raw)}`);
};

/** The last of repeated values (a flag given twice: the last wins). */
const single = (raw: RawValue): RawValue => (Array.isArray(raw) ? (raw.at(-1) ?? '') : raw);

/** Comma-separated and repeated values, trimmed, empties dropped. */
export function listOf(raw: RawValue): string[] {
  const values = Array.isArray(raw) ? raw : raw === null || raw === '' ? [] : [String(raw)];
  return values
    .flatMap((v) => String(v).split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

type Def<T> = Omit<OptionDefinition<T>, 'parse'>;

function oneOf<
  T extends string | number,
  D extends Def<T> & { values: readonly T[] } = Def<T> & { values: readonly T[] },
>(def: D): D & OptionDefinition<T> {
  return {
    ...def,
    parse(raw) {
      const value = single(raw);
      const match = def.values.find((v) => String(v) === String(value).trim());
      return match === undefined ? fail(def, `one of ${def.values.join(', ')}`, value) : (match as T);
    },
  };
}

function integer<D extends Def<number> & { min: number; max: number }>(def: D): D & OptionDefinition<number> {
  const takes =
    def.max === Number.MAX_SAFE_INTEGER
      ? `a whole number from ${def.min}`
      : `a whole number from ${def.min} to ${def.max}`;
  return {
    ...def,
    parse(raw) {
      const value = single(raw);
      const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
      const n = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
      return Number.isSafeInteger(n) && n >= def.min && n <= def.max ? n : fail(def, takes, value);
    },
  };
}

function hosts(def: Def<string[]>): OptionDefinition<string[]> {
  return {
    ...def,
    parse(raw) {
      const list = listOf(raw);
      const bad = list.find((h) => !/^(\*\.)?[A-Za-z0-9_.:[\]-]+$/.test(h) || h.includes('//'));
      return bad === undefined ? list : fail(def, 'host names (*.example.com wildcards)', bad);
    },
  };
}

function names<D extends Def<string[]> & { values: readonly string[] }>(
  def: D,
): D & OptionDefinition<string[]> {
  return {
    ...def,
    parse(raw) {
      const list = listOf(raw);
      const bad = list.filter((n) => !def.values.includes(n));
      return bad.length ? fail(def, def.values.join(', '), bad.join(', ')) : list;
    },
  };
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  kb: 1000,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  mb: 1000 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  gb: 1000 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
  tb: 1000 ** 4,
};

/**
 * A size: bytes, or a number with a unit: `K`/`KiB`, `M`/`MiB`, `G`/`GiB`, `T`/`TiB` (powers of
 * 1024) or `KB`, `MB`, `GB`, `TB` (powers of 1000); case-insensitive; `0` allowed (no bound).
 */
export function parseSizeText(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  return match && unit !== undefined ? Math.floor(Number(match[1]) * unit) : undefined;
}

function size(def: Def<number>): OptionDefinition<number> {
  return {
    ...def,
    parse(raw) {
      const value = single(raw);
      const n = parseSizeText(String(value));
      return n === undefined ? fail(def, 'a size such as 500MiB, 2G or 1000000', value) : n;
    },
  };
}

function text(def: Def<string>, check: (value: string) => boolean, takes: string): OptionDefinition<string> {
  return {
    ...def,
    parse(raw) {
      const value = String(single(raw)).trim();
      return value && check(value) ? value : fail(def, takes, value);
    },
  };
}

const flag = (def: Def<boolean>): OptionDefinition<boolean> => ({
  ...def,
  parse: (raw) => (typeof raw === 'boolean' ? raw : fail(def, 'true or false', raw)),
});

/** `-H 'Name: value'` strings or a `{ name: value }` object → headers, each checked as core does. */
function headers(def: Def<Record<string, string>>): OptionDefinition<Record<string, string>> {
  return {
    ...def,
    parse(raw) {
      const pairs: Array<[string, unknown]> =
        raw !== null && typeof raw === 'object' && !Array.isArray(raw)
          ? Object.entries(raw)
          : (Array.isArray(raw) ? raw : [String(raw)]).map((line: string) => {
              const colon = line.indexOf(':');
              return [colon > 0 ? line.slice(0, colon).trim() : '', line.slice(colon + 1).trim()];
            });
      const out: Record<string, string> = {};
      for (const [name, value] of pairs) {
        // The name only: the value may be a secret (Authorization, Cookie).
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/.test(name)) fail(def, "'Name: value'", name);
        try {
          checkHeader(name, value, def.flag);
        } catch (error) {
          throw new FrontEndUsageError(def.name, (error as Error).message);
        }
        out[name.toLowerCase()] = String(value);
      }
      return out;
    },
  };
}

/** `443=80` pairs (or a `{ 443: 80 }` map) → HTTPS port → HTTP port. */
function portMap(def: Def<Record<number, number>>): OptionDefinition<Record<number, number>> {
  return {
    ...def,
    parse(raw) {
      const pairs =
        raw !== null && typeof raw === 'object' && !Array.isArray(raw)
          ? Object.entries(raw).map(([k, v]) => `${k}=${String(v)}`)
          : listOf(raw);
      const map: Record<number, number> = {};
      for (const pair of pairs) {
        const match = /^(\d{1,5})=(\d{1,5})$/.exec(pair);
        if (!match || Number(match[1]) > 65_535 || Number(match[2]) > 65_535)
          fail(def, 'HTTPS_PORT=HTTP_PORT', pair);
        map[Number(match![1])] = Number(match![2]);
      }
      return map;
    },
  };
}

const PRESET_NAMES = Object.keys(BUILTIN_PRESETS);

/** Every shared option, by the name the HTTP API, Koishi and the typed result use. */
export const OPTIONS = {
  expect: oneOf<ExpectKind>({
    name: 'expect',
    flag: '--expect',
    type: 'enum',
    default: 'any',
    values: EXPECT_KINDS,
    description:
      'what the body must be, by its magic bytes (image, audio, video, media: any of those; any: no check)',
  }),
  expectBytes: integer({
    name: 'expectBytes',
    flag: '--expect-bytes',
    type: 'integer',
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    description: "the body must be exactly N bytes (e.g. OneBot's file_size)",
  }),
  convert: oneOf<ConvertTarget>({
    name: 'convert',
    flag: '--convert',
    type: 'enum',
    values: CONVERT_TARGETS,
    description: 'convert the body before delivering it (wav: a SILK voice clip as WAV)',
  }),
  sampleRate: oneOf<number>({
    name: 'sampleRate',
    flag: '--sample-rate',
    type: 'enum',
    default: 24_000,
    values: SAMPLE_RATES,
    description: "with convert: the output's sample rate (Hz)",
  }),
  timeoutMs: integer({
    name: 'timeoutMs',
    flag: '--timeout',
    type: 'integer',
    default: DEFAULTS.timeoutMs,
    min: 1,
    max: MAX_TIMEOUT_MS,
    description: 'total deadline of one download, every strategy included (ms)',
  }),
  attemptTimeoutMs: integer({
    name: 'attemptTimeoutMs',
    flag: '--attempt-timeout',
    type: 'integer',
    default: DEFAULTS.attemptTimeoutMs,
    min: 1,
    max: MAX_TIMEOUT_MS,
    description: 'deadline of one strategy (ms), at most the total deadline',
  }),
  maxBytes: integer({
    name: 'maxBytes',
    flag: '--max-bytes',
    type: 'integer',
    default: DEFAULTS.maxBytes,
    min: 1,
    max: Number.MAX_SAFE_INTEGER,
    description: 'largest body accepted (bytes)',
  }),
  cacheMaxSize: size({
    name: 'cacheMaxSize',
    flag: '--cache-max-size',
    type: 'size',
    default: 1024 ** 3,
    description: 'most bytes the disk cache holds (500MiB, 2G, 10000000; 0: no bound)',
  }),
  logLevel: oneOf<LogLevel>({
    name: 'logLevel',
    flag: '--log-level',
    type: 'enum',
    values: LOG_LEVELS,
    description: "Detour's own log level (JSON lines; silent: none)",
  }),
  proxy: text(
    {
      name: 'proxy',
      flag: '--proxy',
      type: 'string',
      description: 'a proxy URL for every request (http, https, socks4, socks5, socks5h); absent: detected',
    },
    // The scheme and the URL itself are checked by core (DETOUR_BAD_PROXY), for every caller.
    () => true,
    'a proxy URL',
  ),
  noProxy: flag({
    name: 'noProxy',
    flag: '--no-proxy',
    type: 'boolean',
    default: false,
    description: 'never use a proxy',
  }),
  strategies: {
    name: 'strategies',
    flag: '--strategies',
    type: 'list',
    description: 'strategy names in the order to try them; absent: the detected plan',
    parse: (raw: RawValue) => listOf(raw),
  } as OptionDefinition<string[]>,
  insecureHosts: hosts({
    name: 'insecureHosts',
    flag: '--insecure-host',
    type: 'list',
    default: [],
    description: 'hosts whose certificates tls-relaxed and curl do not check (results flagged insecure)',
  }),
  allowDowngrade: hosts({
    name: 'allowDowngrade',
    flag: '--allow-downgrade',
    type: 'list',
    default: [],
    description: 'hosts opted in to https → http (http-downgrade; results flagged downgraded)',
  }),
  downgradePorts: portMap({
    name: 'downgradePorts',
    flag: '--downgrade-port',
    type: 'map',
    description: 'for downgraded hosts, HTTPS port → HTTP port (default 443 → 80)',
  }),
  headersProfile: oneOf<string>({
    name: 'headersProfile',
    flag: '--headers-profile',
    type: 'enum',
    default: 'detour',
    values: Object.keys(HEADER_PROFILES),
    description: "request header set; a 403 is retried once with the profile's Referer",
  }),
  presets: names({
    name: 'presets',
    flag: '--preset',
    type: 'list',
    default: ['qq'],
    values: PRESET_NAMES,
    description: 'site presets to turn on (discord and telegram need their bot token)',
  }),
  noPresets: names({
    name: 'noPresets',
    flag: '--no-preset',
    type: 'list',
    values: PRESET_NAMES,
    description: 'presets to turn off',
  }),
  headers: headers({
    name: 'headers',
    flag: '-H',
    type: 'map',
    description: 'extra request headers',
  }),
} as const;

export type OptionName = keyof typeof OPTIONS;
type Parsed<K extends OptionName> = ReturnType<(typeof OPTIONS)[K]['parse']>;

/** Raw front-end input, by option name; absent (undefined) options are left out of the result. */
export type RawOptions = { [K in OptionName]?: RawValue | undefined };
/** The typed options: each present in the input, parsed and checked. */
export type ValidOptions = { [K in OptionName]?: Parsed<K> };

const label = (name: OptionName) => optionLabel(OPTIONS[name]);

/** Options that need or exclude each other (checked after each alone). */
function checkTogether(raw: RawOptions, valid: ValidOptions): void {
  const given = (name: OptionName) => raw[name] !== undefined && raw[name] !== null;
  const problem = (name: OptionName, message: string) => {
    throw new FrontEndUsageError(name, message);
  };
  if (given('sampleRate') && !given('convert'))
    problem('sampleRate', `${label('sampleRate')} needs ${label('convert')} (${CONVERT_TARGETS.join(', ')})`);
  if (valid.proxy !== undefined && valid.noProxy)
    problem('proxy', `${label('proxy')} and ${label('noProxy')} exclude each other`);
  if (Object.keys(valid.downgradePorts ?? {}).length && !valid.allowDowngrade?.length)
    problem('downgradePorts', `${label('downgradePorts')} needs ${label('allowDowngrade')}`);
  const total = valid.timeoutMs ?? DEFAULTS.timeoutMs;
  if (valid.attemptTimeoutMs !== undefined && valid.attemptTimeoutMs > total) {
    problem(
      'attemptTimeoutMs',
      `${label('attemptTimeoutMs')} ${valid.attemptTimeoutMs} is longer than ${valid.timeoutMs === undefined ? 'the default ' : ''}${label('timeoutMs')} ${total}: raise ${label('timeoutMs')} too`,
    );
  }
}

/**
 * The one validation of front-end input: each option given is parsed by its definition (in the
 * order of `OPTIONS`), then the options that need or exclude each other are checked. Returns the
 * typed options (only those given); the first problem throws a `FrontEndUsageError` naming it.
 */
export function validateOptions(raw: RawOptions): ValidOptions {
  const valid: Record<string, unknown> = {};
  for (const name of Object.keys(OPTIONS) as OptionName[]) {
    const value = raw[name];
    if (value === undefined || value === null) continue;
    valid[name] = (OPTIONS[name] as OptionDefinition).parse(value);
  }
  checkTogether(raw, valid as ValidOptions);
  return valid as ValidOptions;
}
