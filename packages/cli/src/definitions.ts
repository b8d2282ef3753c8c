/**
 * The CLI's commands and flags, as data. The parser (node:util parseArgs) and the help text are
 * both generated from these definitions, so a flag cannot exist without its help line, nor the
 * other way round. Add a flag here (with its default and a one-line help), then read it in the
 * command with `flags.string('name')` / `flags.bool('name')` / `flags.strings('name')`.
 */

export interface OptionSpec {
  /** Long name without the dashes (`output` for `--output`). */
  name: string;
  /** One-letter alias (`o` for `-o`). */
  short?: string;
  type: 'string' | 'boolean';
  /** Repeatable (`-H a -H b`); comma-separated lists are split by the command. */
  multiple?: boolean;
  /** The value's placeholder in the help (`FILE`, `MS`). */
  value?: string;
  /** The default, as shown in the help (`60000`, `off`, `detected`). */
  default: string;
  help: string;
}

export interface CommandSpec {
  name: string;
  /** One line for `detour --help`. */
  summary: string;
  /** Usage lines after `detour <name>` (`<url> [options]`). */
  usage: string[];
  /** A paragraph under the usage. */
  description: string;
  options: OptionSpec[];
  /** Runnable examples (the README shows the same). */
  examples: string[];
}

/** `--help` / `-h`, added to every command. */
export const HELP_OPTION: OptionSpec = {
  name: 'help',
  short: 'h',
  type: 'boolean',
  default: 'off',
  help: 'show this help and exit',
};

const JSON_OPTION: OptionSpec = {
  name: 'json',
  type: 'boolean',
  default: 'off',
  help: 'print exactly one JSON document instead of the human report (no log lines on it)',
};

const LOG_LEVEL_OPTION: OptionSpec = {
  name: 'log-level',
  value: 'LEVEL',
  type: 'string',
  default: 'off (no log lines)',
  help: 'pino log level on stderr: fatal, error, warn, info, debug, trace, silent; credentials and rkey-like values are redacted',
};

export const FETCH: CommandSpec = {
  name: 'fetch',
  summary: 'download a URL through the strategy pipeline and say how it was obtained',
  usage: ['<url> [options]', '<url>... -O DIR [options]', '-i FILE -O DIR [options]'],
  description:
    'Tries the strategies of the detected plan (direct, direct-bypass, tls-relaxed, curl, …) from strictest to most relaxed until one delivers, then prints the winner, the bytes, the SHA-256 and every attempt. With several URLs (or -i FILE) and -O DIR, downloads them --concurrency at a time, one line per file, then a summary of ok / degraded / failed files and the strategies that delivered them. Exit codes: 0 success, 1 every strategy failed (for any file), 2 bad usage.',
  options: [
    {
      name: 'output',
      short: 'o',
      value: 'FILE',
      type: 'string',
      default: 'none (report only)',
      help: 'write the body to FILE atomically (nothing left on failure); - writes it to stdout',
    },
    {
      name: 'output-dir',
      short: 'O',
      value: 'DIR',
      type: 'string',
      default: 'none',
      help: 'write each URL to DIR (created if missing), named after the last path segment; needed with several URLs',
    },
    {
      name: 'input-file',
      short: 'i',
      value: 'FILE',
      type: 'string',
      default: 'none',
      help: 'read URLs from FILE, one per line (# comments and blank lines skipped; - for stdin)',
    },
    {
      name: 'concurrency',
      value: 'N',
      type: 'string',
      default: '4',
      help: 'with -O DIR: downloads at a time',
    },
    JSON_OPTION,
    {
      name: 'progress',
      type: 'boolean',
      default: 'on for -o FILE when stderr is a terminal',
      help: 'show a progress line on stderr (bytes, total, rate, ETA) once a download takes over 1 s, also with -o - or no -o; only on a terminal, never with --json',
    },
    { name: 'no-progress', type: 'boolean', default: 'off', help: 'never show the progress line' },
    {
      name: 'strategies',
      value: 'A,B,…',
      type: 'string',
      default: 'the detected plan',
      help: 'strategies to try, in order: direct, direct-bypass, tls-relaxed, curl, http-downgrade (needs --allow-downgrade), placeholder (needs --placeholder)',
    },
    {
      name: 'proxy',
      value: 'URL',
      type: 'string',
      default: 'detected (env, OS settings)',
      help: 'force a proxy: http://, https://, socks4://, socks5://, socks5h:// (credentials allowed); when it fails, direct-bypass may still go around it (--no-bypass forbids that)',
    },
    { name: 'no-proxy', type: 'boolean', default: 'off', help: 'never use a proxy' },
    {
      name: 'no-bypass',
      type: 'boolean',
      default: 'off (a failing proxy may be bypassed)',
      help: 'never go around the proxy: no direct-bypass, even when the proxy fails (library: bypass: false)',
    },
    {
      name: 'allow-private',
      type: 'boolean',
      default: 'off',
      help: 'allow loopback, private and link-local targets (refused by default)',
    },
    {
      name: 'timeout',
      value: 'MS',
      type: 'string',
      default: '60000',
      help: 'total deadline of the download in milliseconds',
    },
    {
      name: 'attempt-timeout',
      value: 'MS',
      type: 'string',
      default: '30000',
      help: 'deadline of one strategy in milliseconds, at most --timeout: a large file over a slow link needs both raised',
    },
    {
      name: 'max-bytes',
      value: 'N',
      type: 'string',
      default: '52428800 (50 MiB)',
      help: 'largest body accepted',
    },
    {
      name: 'expect',
      value: 'KIND',
      type: 'string',
      default: 'any',
      help: 'what the body must be, by its magic bytes: image (PNG, JPEG, GIF, WebP, BMP, AVIF/HEIC, ICO), audio (SILK, AMR, AMR-WB, MP3, OGG/Opus, WAV, M4A), video (MP4, MOV), media (any of those), any (no check)',
    },
    {
      name: 'expect-bytes',
      value: 'N',
      type: 'string',
      default: 'none',
      help: "the body must be exactly N bytes (e.g. OneBot's file_size); else content-invalid / DETOUR_SIZE_MISMATCH",
    },
    {
      name: 'convert',
      value: 'FORMAT',
      type: 'string',
      default: 'off (the bytes as downloaded)',
      help: 'convert the body before writing it: wav turns a SILK voice clip (QQ voice) into WAV, PCM s16le mono; mp3 into MP3, 64 kbit/s mono; other formats fail with DETOUR_CONVERT_UNSUPPORTED (AMR-NB included)',
    },
    {
      name: 'sample-rate',
      value: 'HZ',
      type: 'string',
      default: '24000',
      help: 'with --convert: the output sample rate, one of 8000, 12000, 16000, 24000, 32000, 44100, 48000',
    },
    {
      name: 'preset',
      value: 'NAME',
      type: 'string',
      multiple: true,
      default: 'qq',
      help: 'turn a preset on (repeatable): qq, discord (needs --discord-token), telegram (needs --telegram-token); a token given turns its preset on too',
    },
    {
      name: 'discord-token',
      value: 'TOKEN',
      type: 'string',
      default: '$DETOUR_DISCORD_TOKEN',
      help: 'the Discord bot token: expired attachment links are refreshed through the API (never printed)',
    },
    {
      name: 'telegram-token',
      value: 'TOKEN',
      type: 'string',
      default: '$DETOUR_TELEGRAM_TOKEN',
      help: 'the Telegram bot token: its file links are recognised and the token is masked (bot***) in every output',
    },
    {
      name: 'telegram-api-base',
      value: 'URL',
      type: 'string',
      default: 'https://api.telegram.org ($DETOUR_TELEGRAM_API_BASE)',
      help: 'a local Bot API server or reverse proxy: its file links are recognised (and their token masked) too',
    },
    {
      name: 'no-preset',
      value: 'NAME',
      type: 'string',
      multiple: true,
      default: 'none (qq on)',
      help: 'turn a preset off: qq (Tencent media hosts only: expired-rkey errors, &amp;, fileid sizes, Referer policy, legacy URLs)',
    },
    {
      name: 'header',
      short: 'H',
      value: "'NAME: VALUE'",
      type: 'string',
      multiple: true,
      default: 'none',
      help: 'extra request header (repeatable)',
    },
    {
      name: 'headers-profile',
      value: 'NAME',
      type: 'string',
      default: 'detour',
      help: "header set: detour, chrome, firefox; a 403 is retried once with the profile's Referer",
    },
    LOG_LEVEL_OPTION,
    {
      name: 'allow-downgrade',
      value: 'HOST[,HOST]',
      type: 'string',
      multiple: true,
      default: 'none',
      help: 'enable http-downgrade (https → plain http) for these hosts (*.qpic.cn wildcards)',
    },
    {
      name: 'downgrade-port',
      value: 'HTTPS=HTTP',
      type: 'string',
      multiple: true,
      default: '443=80, other ports kept',
      help: 'for downgraded hosts, https port HTTPS maps to http port HTTP',
    },
    {
      name: 'insecure-host',
      value: 'HOST[,HOST]',
      type: 'string',
      multiple: true,
      default: 'none',
      help: 'tls-relaxed and curl skip certificate checks for these hosts only (result marked insecure)',
    },
    {
      name: 'ca',
      value: 'FILE',
      type: 'string',
      multiple: true,
      default: "the system's CAs and NODE_EXTRA_CA_CERTS",
      help: 'trust the PEM certificates in FILE on top of the system CAs (repeatable; handed to curl too)',
    },
    {
      name: 'placeholder',
      type: 'boolean',
      default: 'off',
      help: 'last resort: answer with a placeholder image (result marked degraded)',
    },
    {
      name: 'curl',
      value: 'PATH',
      type: 'string',
      default: 'curl on PATH',
      help: 'the curl binary the curl strategy runs',
    },
    {
      name: 'cache-dir',
      value: 'DIR',
      type: 'string',
      default: 'none (no cache across runs)',
      help: 'keep answers in DIR and answer repeats from it (fromCache: true)',
    },
    { name: 'no-cache', type: 'boolean', default: 'off', help: 'neither read nor write any cache' },
    {
      name: 'cache-max-size',
      value: 'SIZE',
      type: 'string',
      default: '1GiB',
      help: 'most bytes --cache-dir holds; the least recently used entries go first, after a write (SIZE: 500MiB, 2G, 10000000; 0: no bound)',
    },
    {
      name: 'state-dir',
      value: 'DIR',
      type: 'string',
      default: '$XDG_STATE_HOME/detour, else ~/.local/state/detour (%LOCALAPPDATA%\\detour on Windows)',
      help: 'keep what was learned (the strategy that works per host and network, open circuits) in DIR across runs',
    },
    {
      name: 'no-state',
      type: 'boolean',
      default: 'off',
      help: 'neither read nor write the state directory: this run learns for itself only',
    },
    {
      name: 'show-secrets',
      type: 'boolean',
      default: 'off',
      help: 'print URL credentials and secret query values (rkey, token, sign, …) instead of ***, for debugging',
    },
  ],
  examples: [
    'detour fetch https://example.com/image.png -o image.png',
    'detour fetch https://example.com/image.png --json --expect image',
    'detour fetch -i urls.txt -O images/ --concurrency 8',
    "detour fetch https://example.com/a.jpg --proxy socks5://127.0.0.1:7891 -H 'Referer: https://example.com/'",
  ],
};

export const DETECT: CommandSpec = {
  name: 'detect',
  summary: 'describe the network environment (proxies, TUN, fake-IP DNS) and the strategy plan',
  usage: ['[options]'],
  description:
    'Reports proxy variables (curl rules), the OS proxy, PAC, TUN devices carrying the default route, fake-IP DNS and, with --probe-ports, local proxy ports; then the plan detour fetch (or detour serve) would use with the same flags, and why. --json prints what detour serve answers on GET /v1/detect.',
  options: [
    JSON_OPTION,
    // The flags that change which strategies exist or how they are planned: the same answer as
    // `detour serve`'s /v1/detect for the same flags.
    ...FETCH.options.filter((o) =>
      ['strategies', 'proxy', 'no-proxy', 'no-bypass', 'allow-downgrade', 'placeholder'].includes(o.name),
    ),
    {
      name: 'probe-ports',
      type: 'boolean',
      default: 'off',
      help: 'look for local proxies on the usual ports (7890, 7891, 1080, …) by handshake',
    },
    {
      name: 'dns-server',
      value: 'ADDR[:PORT]',
      type: 'string',
      multiple: true,
      default: 'the system resolver',
      help: 'ask this DNS server whether answers fall in fake-IP ranges (repeatable)',
    },
  ],
  examples: ['detour detect', 'detour detect --json --probe-ports'],
};

export const DEMO: CommandSpec = {
  name: 'demo',
  summary: 'run the hostile-network lab on loopback and show who rescues what',
  usage: ['[options]'],
  description:
    'Starts real servers and proxies on 127.0.0.1 (@detour/lab: a legacy-TLS origin, a broken accelerator, a proxy asking for credentials, …) and downloads through the pipeline in each situation. Exit 0 when every scenario ends as expected.',
  options: [JSON_OPTION],
  examples: ['detour demo', 'detour demo --json'],
};

const option = (spec: CommandSpec, name: string): OptionSpec => {
  const found = spec.options.find((o) => o.name === name);
  if (!found) throw new Error(`no --${name} in detour ${spec.name}`);
  return found;
};

export const DOCTOR: CommandSpec = {
  name: 'doctor',
  summary: 'try every strategy alone against a URL and say what is in the way and how to fix it',
  usage: ['<url> [options]'],
  description:
    'Detects the environment, then tries each available strategy alone against the URL (no cache, no route memory, short deadlines, in parallel) and prints the environment, a table of the results, a verdict in plain words and concrete fixes: a Clash/mihomo rule, a NO_PROXY line, a fake-ip-filter entry, the Detour flag that helps. Exit 0 when at least one strategy works, 1 otherwise.',
  options: [
    JSON_OPTION,
    {
      ...option(FETCH, 'proxy'),
      help: 'the proxy to diagnose: http://, https://, socks4://, socks5://, socks5h:// (credentials allowed); direct-bypass is tried alone too, to tell whether going around it helps',
    },
    option(FETCH, 'no-proxy'),
    option(FETCH, 'allow-private'),
    {
      name: 'timeout',
      value: 'MS',
      type: 'string',
      default: '8000',
      help: 'deadline of each strategy in milliseconds',
    },
    option(FETCH, 'expect'),
    option(FETCH, 'ca'),
    option(FETCH, 'insecure-host'),
    {
      ...option(FETCH, 'allow-downgrade'),
      help: 'also try http-downgrade (plain http) for these hosts; never tried uninvited',
    },
    option(FETCH, 'curl'),
    {
      ...option(DETECT, 'dns-server'),
      help: "ask this DNS server whether the URL's host gets a fake-IP answer (repeatable)",
      default: 'the system resolver',
    },
  ],
  examples: [
    'detour doctor https://multimedia.nt.qq.com.cn/download?fileid=…',
    'detour doctor https://example.com/image.png --json --proxy http://127.0.0.1:7890',
  ],
};

/** `fetch`'s flags that shape the pipeline (not the one download): `serve` takes them all. */
const PIPELINE_FLAGS = new Set([
  'strategies',
  'proxy',
  'no-proxy',
  'no-bypass',
  'allow-private',
  'timeout',
  'attempt-timeout',
  'max-bytes',
  'headers-profile',
  'log-level',
  'allow-downgrade',
  'downgrade-port',
  'insecure-host',
  'placeholder',
  'curl',
  'cache-dir',
  'no-cache',
  'no-preset',
  'preset',
  'discord-token',
  'telegram-token',
  'telegram-api-base',
  'ca',
  'state-dir',
  'cache-max-size',
]);

export const SERVE: CommandSpec = {
  name: 'serve',
  summary: 'run one pipeline behind an HTTP API for bots in any language (@detour/serve)',
  usage: ['[options]'],
  description:
    'Detects the environment once (again every 60 s and on SIGHUP), builds one pipeline and answers GET/POST /v1/fetch (the body streamed, X-Detour-* headers), /v1/detect, /healthz and /metrics, and an operator page at /ui (recent fetches live, hosts with their learned route and a forget action, cache totals, doctor; API: /v1/events, /v1/recent, /v1/hosts, /v1/cache, /v1/doctor). Prints `listening on http://HOST:PORT` on stderr once ready. A non-loopback --host needs a token. SIGTERM/SIGINT: in-flight downloads finish (up to --grace), then exit 0.',
  options: [
    {
      name: 'host',
      value: 'ADDR',
      type: 'string',
      default: '127.0.0.1',
      help: 'address to listen on; anything but loopback requires --token',
    },
    {
      name: 'port',
      value: 'N',
      type: 'string',
      default: '7070',
      help: 'port to listen on; 0 picks a free one',
    },
    {
      name: 'token',
      value: 'TOKEN',
      type: 'string',
      default: '$DETOUR_TOKEN, else none',
      help: 'require `Authorization: Bearer TOKEN` on every route but /healthz',
    },
    {
      name: 'redis',
      value: 'URL',
      type: 'string',
      default: 'none (in process)',
      help: 'redis://… : share the cache, route memory and open circuits with every instance on it',
    },
    {
      name: 'grace',
      value: 'MS',
      type: 'string',
      default: '10000',
      help: 'on SIGTERM/SIGINT, how long in-flight downloads may run on before they are cut',
    },
    {
      name: 'max-connections',
      value: 'N',
      type: 'string',
      default: '512',
      help: 'open client connections at most; more are closed at once and a warning is logged',
    },
    {
      name: 'header-timeout',
      value: 'MS',
      type: 'string',
      default: '10000',
      help: 'a client must send its request headers within this (slow clients are cut off)',
    },
    {
      name: 'body-timeout',
      value: 'MS',
      type: 'string',
      default: '30000',
      help: 'a client must send its request body within this after the headers',
    },
    {
      name: 'pin-resolved-address',
      type: 'boolean',
      default: 'off',
      help: 'through proxies that resolve names (HTTP CONNECT, socks5h://): send the checked IP, not the name; for services fetching links from untrusted users',
    },
    ...FETCH.options
      .filter((o) => PIPELINE_FLAGS.has(o.name))
      .map((o) =>
        o.name === 'cache-dir'
          ? { ...o, default: 'none (memory only)', help: 'add a disk tier in DIR to the in-memory cache' }
          : o.name === 'log-level'
            ? { ...o, default: 'warn' }
            : o.name === 'state-dir'
              ? { ...o, default: 'none (in process; --redis shares it instead)' }
              : o,
      ),
  ],
  examples: [
    'detour serve',
    'detour serve --host 0.0.0.0 --token "$DETOUR_TOKEN" --placeholder',
    'detour serve --redis redis://127.0.0.1:6379',
    "curl -s 'http://127.0.0.1:7070/v1/fetch?url=https%3A%2F%2Fexample.com%2Fa.png&expect=image' -o a.png",
  ],
};

export const CACHE: CommandSpec = {
  name: 'cache',
  summary: 'list, prune or clear a disk cache (--cache-dir)',
  usage: ['ls --cache-dir DIR [--json]', 'prune --cache-dir DIR [--max-size SIZE]', 'clear --cache-dir DIR'],
  description:
    'ls: every entry, least recently used first: the URL it came from (secrets masked when stored), its size and format, when it was stored and last used, the strategy that fetched it and its flags (insecure, downgraded, private, expired). prune: removes expired entries, then the least recently used until the directory holds at most --max-size. clear: removes every entry. Exit codes: 0 done, 2 bad usage.',
  options: [
    {
      name: 'cache-dir',
      value: 'DIR',
      type: 'string',
      default: 'none (required)',
      help: 'the cache directory (as given to detour fetch --cache-dir)',
    },
    {
      name: 'max-size',
      value: 'SIZE',
      type: 'string',
      default: '1GiB',
      help: 'prune: the size to bring the directory down to (SIZE: 500MiB, 2G, 10000000)',
    },
    {
      ...JSON_OPTION,
      help: 'print one JSON document: ls an array of entries, prune and clear { removed, removedBytes, size }',
    },
  ],
  examples: [
    'detour cache ls --cache-dir ~/.cache/detour',
    'detour cache prune --cache-dir ~/.cache/detour --max-size 200MiB',
    'detour cache clear --cache-dir ~/.cache/detour',
  ],
};

/** Every command, in the order `detour --help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [FETCH, DETECT, DOCTOR, DEMO, SERVE, CACHE];
