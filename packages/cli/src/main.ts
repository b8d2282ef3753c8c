import { runFetch } from './commands/fetch.js';
import { type CliIo, EXIT_OK, EXIT_USAGE, UsageError, write } from './io.js';

export const USAGE = `usage: detour <command> [options]

commands:
  fetch <url>   download a URL through the strategy pipeline (detour fetch --help)
  detect        describe the network environment and the strategy plan
  demo          run the hostile-network lab on loopback and show who rescues what
`;

type Command = (argv: string[], io: CliIo) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  fetch: async () => runFetch,
  detect: async () => (await import('./commands/detect.js')).runDetect,
  demo: async () => (await import('./commands/demo.js')).runDemo,
};

/** Run the CLI; returns the exit code. Never throws for bad input: exit 2 with one line on stderr. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    write(name ? io.stdout : io.stderr, USAGE);
    return name ? EXIT_OK : EXIT_USAGE;
  }
  const load = commands[name];
  if (!load) {
    write(
      io.stderr,
      `detour: unknown command ${JSON.stringify(name)} (try: ${Object.keys(commands).join(', ')})`,
    );
    return EXIT_USAGE;
  }
  try {
    return await (await load())(rest, io);
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      write(io.stderr, `detour ${name}: ${(error as Error).message.split('\n')[0]}`);
      return EXIT_USAGE;
    }
    throw error;
  }
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code ?? '';
  return code.startsWith('ERR_PARSE_ARGS_');
}
