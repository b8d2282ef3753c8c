import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { COMMANDS, type CommandSpec, HELP_OPTION, type OptionSpec } from './definitions.js';
import { UsageError } from './io.js';

type RawValue = string | boolean | string[] | undefined;

/** The parsed flags of one command, read by name (names are the definitions' long names). */
export class Flags {
  readonly #values: Record<string, RawValue>;
  readonly #spec: CommandSpec;

  constructor(spec: CommandSpec, values: Record<string, RawValue>) {
    this.#spec = spec;
    this.#values = values;
  }

  #option(name: string): OptionSpec {
    const option = this.#spec.options.find((o) => o.name === name);
    if (!option) throw new Error(`detour ${this.#spec.name} has no flag --${name} in its definitions`);
    return option;
  }

  /** A string flag's value (the last one when repeated). */
  string(name: string): string | undefined {
    this.#option(name);
    const value = this.#values[name];
    return Array.isArray(value) ? value.at(-1) : typeof value === 'string' ? value : undefined;
  }

  /** A repeatable string flag's values. */
  strings(name: string): string[] | undefined {
    this.#option(name);
    const value = this.#values[name];
    return Array.isArray(value) ? value : typeof value === 'string' ? [value] : undefined;
  }

  bool(name: string): boolean {
    this.#option(name);
    return this.#values[name] === true;
  }

  /** Whether the flag was given at all. */
  has(name: string): boolean {
    this.#option(name);
    return this.#values[name] !== undefined;
  }
}

export interface Parsed {
  flags: Flags;
  positionals: string[];
  /** `--help` / `-h` was given: print `helpText(spec)` and exit 0. */
  help: boolean;
}

/** node:util parseArgs options for a command: its definitions plus --help. */
function parseArgsOptions(spec: CommandSpec) {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const o of [...spec.options, HELP_OPTION]) {
    options[o.name] = {
      type: o.type,
      ...(o.short ? { short: o.short } : {}),
      ...(o.multiple ? { multiple: true } : {}),
    };
  }
  return options;
}

/** Parse `argv` for `spec`. `--help` anywhere before `--` wins over every other error. */
export function parse(spec: CommandSpec, argv: string[]): Parsed {
  const options = parseArgsOptions(spec);
  const loose = parseArgs({ args: argv, options, strict: false, allowPositionals: true });
  if (loose.values.help === true) return { flags: new Flags(spec, {}), positionals: [], help: true };
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
    return { flags: new Flags(spec, values as Record<string, RawValue>), positionals, help: false };
  } catch (error) {
    const message = (error as Error).message.split('\n')[0]!;
    const unknown = /^Unknown option '(-[^']*)'/.exec(message)?.[1];
    if (unknown) {
      const near = closestFlag(spec, unknown);
      throw new UsageError(
        `unknown flag ${unknown}${near ? `: did you mean ${near}?` : ''} (see detour ${spec.name} --help)`,
      );
    }
    // Node's text suggests `-- "--flag"`; point at the help instead.
    throw new UsageError(
      `${message.replace(/\. To specify a positional argument.*$/, '')} (see detour ${spec.name} --help)`,
    );
  }
}

/** Edit distance (insertions, deletions, substitutions, swaps of neighbours). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The command's flag closest to an unknown one (`--proxyy` → `--proxy`, `--timout` → `--timeout`,
 * `--ouput` → `--output`), or undefined when none is close. A prefix counts as close (`--insecure`
 * → `--insecure-host`).
 */
export function closestFlag(spec: CommandSpec, given: string): string | undefined {
  const name = given.replace(/^-+/, '').split('=')[0]!.toLowerCase();
  if (!name) return undefined;
  let best: { flag: string; score: number } | undefined;
  for (const o of [...spec.options, HELP_OPTION]) {
    // A one-letter flag is only "close" to the same letter in the other case (`-I` → `-i`).
    const short = !given.startsWith('--') && name.length === 1;
    const candidates = short ? (o.short?.toLowerCase() === name ? [o.short] : []) : [o.name];
    for (const candidate of candidates) {
      const score = candidate.startsWith(name) && name.length >= 3 ? 0.5 : distance(name, candidate);
      const limit = Math.max(1, Math.floor(candidate.length / 3));
      if (score <= limit && (!best || score < best.score)) {
        best = { flag: candidate.length === 1 ? `-${candidate}` : `--${candidate}`, score };
      }
    }
  }
  return best?.flag;
}

const column = (o: OptionSpec) =>
  `${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.value ? ` ${o.value}` : ''}`;

/** Wrap `text` to `width` columns, continuation lines indented by `indent`. */
function wrap(text: string, indent: number, width = 100): string {
  const words = text.split(' ');
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

/** `detour <command> --help`: usage, description, every flag with its default, examples. */
export function helpText(spec: CommandSpec): string {
  const options = [...spec.options, HELP_OPTION];
  const width = Math.min(36, Math.max(...options.map((o) => column(o).length)) + 2);
  const optionLines = options.map((o) => {
    const left = `  ${column(o)}`;
    const text = `${o.help}${o.name === 'help' ? '' : ` [default: ${o.default}]`}`;
    const pad = left.length + 1 > width + 2 ? `${left}\n${' '.repeat(width + 2)}` : left.padEnd(width + 2);
    return `${pad}${wrap(text, width + 2)}`;
  });
  return [
    spec.usage.map((u, i) => `${i === 0 ? 'usage:' : '      '} detour ${spec.name} ${u}`).join('\n'),
    '',
    wrap(spec.description, 0),
    '',
    'options:',
    ...optionLines,
    '',
    spec.examples.length > 1 ? 'examples:' : 'example:',
    ...spec.examples.map((e) => `  ${e}`),
    '',
  ].join('\n');
}

/** `detour --help`. */
export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'usage: detour <command> [options]',
    '       detour <command> --help',
    '',
    'Get a file from a server even when the network in between is hostile, and say honestly how.',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'options:',
    '  -h, --help      show this help and exit',
    '  -V, --version   print the version and exit',
    '',
    'example:',
    '  detour fetch https://example.com/image.png -o image.png',
    '',
  ].join('\n');
}

/** The version of the installed @detour/cli package. */
export function version(): string {
  // dist/args.js, or the bundle's dist/bundle/bin.js: the package's root is one or two levels up.
  const url = new URL(
    import.meta.url.includes('/dist/bundle/') ? '../../package.json' : '../package.json',
    import.meta.url,
  );
  const pkg = JSON.parse(readFileSync(url, 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
