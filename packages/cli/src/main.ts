// Only the CLI's own definitions are loaded up front: `detour --version` and `--help` need nothing
// else, and each command imports what it uses when it runs (issue 25 item 4).
import { helpText, mainHelp, parse, version } from './args.js';
import { COMMANDS } from './definitions.js';
import { type CliIo, EXIT_FAILED, EXIT_OK, EXIT_USAGE, write } from './io.js';

/** `detour --help`, generated from the command definitions. */
export const USAGE = mainHelp();

type Command = (argv: string[], io: CliIo) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  fetch: async () => (await import('./commands/fetch.js')).runFetch,
  detect: async () => (await import('./commands/detect.js')).runDetect,
  doctor: async () => (await import('./commands/doctor.js')).runDoctor,
  demo: loadDemo,
  serve: async () => (await import('./commands/serve.js')).runServe,
  cache: async () => (await import('./commands/cache.js')).runCache,
};

/**
 * `detour demo` runs on the test lab, which the CLI does not need otherwise: `@detour/lab` is an
 * optional dependency. Without it, the demo says what is missing instead of a module-not-found trace.
 */
async function loadDemo(): Promise<Command> {
  try {
    return (await import('./commands/demo.js')).runDemo;
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    if (code !== 'ERR_MODULE_NOT_FOUND' || !message?.includes('@detour/lab')) throw error;
    return async (_argv, io) => {
      write(
        io.stderr,
        'detour demo: the demo runs on @detour/lab (real servers and proxies on loopback), which is not installed: it is an optional dependency of @detour/cli. Install its tarball beside the CLI, or run `npx -y pnpm@10 lab` from a clone of the repository.',
      );
      return EXIT_FAILED;
    };
  }
}

/** Run the CLI; returns the exit code. Never throws for bad input: exit 2 with one line on stderr. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    write(io.stdout, version());
    return EXIT_OK;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    write(name ? io.stdout : io.stderr, topic ? helpText(topic) : USAGE);
    return name ? EXIT_OK : EXIT_USAGE;
  }
  const load = commands[name];
  if (!load) {
    write(
      io.stderr,
      `detour: unknown command ${JSON.stringify(name)} (try: ${Object.keys(commands).join(', ')}; detour --help)`,
    );
    return EXIT_USAGE;
  }
  try {
    const spec = COMMANDS.find((c) => c.name === name);
    if (spec && parse(spec, rest).help) {
      write(io.stdout, helpText(spec));
      return EXIT_OK;
    }
    return await (await load())(rest, io);
  } catch (error) {
    if (isUsageError(error) || isParseArgsError(error)) {
      const raw = (error as Error).message.split('\n')[0] ?? '';
      // A usage error may quote the URL given: mask its secrets unless --show-secrets.
      const line = rest.includes('--show-secrets') ? raw : (await import('@detour/core')).redactText(raw);
      write(io.stderr, `detour ${name}: ${line}`);
      // Whoever asked for JSON reads stdout: a usage error is a JSON document there too.
      if (wantsJson(rest)) write(io.stdout, JSON.stringify(usageJson(line)));
      return EXIT_USAGE;
    }
    throw error;
  }
}

/**
 * A UsageError, known by its name: in the bundled CLI a command loaded from its own module may
 * carry another copy of the class (see scripts/bundle-cli.mjs).
 */
function isUsageError(error: unknown): boolean {
  return error instanceof Error && error.name === 'UsageError';
}

/** `--json` among the flags (before a `--` that ends them). */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/** The JSON of a usage error: the shape of a failed `fetch --json`, with code DETOUR_USAGE (exit 2). */
export function usageJson(message: string) {
  return {
    ok: false as const,
    error: { failureClass: 'blocked' as const, code: 'DETOUR_USAGE', message, exitCode: EXIT_USAGE },
  };
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code ?? '';
  return code.startsWith('ERR_PARSE_ARGS_');
}
