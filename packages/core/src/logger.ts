import pino, { type Logger } from 'pino';
import { redactText } from './redact.js';

/** Paths pino blanks in every log line, in case a caller logs a request object through us. */
export const REDACT_PATHS = [
  'headers.authorization',
  'headers.cookie',
  'headers["proxy-authorization"]',
  'proxy.password',
  '*.password',
];

/**
 * The default logger: silent unless a level is asked for (a library does not print uninvited),
 * JSON to stderr so it never mixes with a body written to stdout. `destination` receives each line
 * instead (a host framework's logger, e.g. the Koishi plugin's); redaction applies either way.
 */
export function createLogger(level = 'silent', destination?: { write(line: string): void }): Logger {
  return pino(
    {
      name: 'detour',
      level,
      redact: { paths: REDACT_PATHS, censor: '***' },
      // Belt and braces: Detour logs redacted URLs already; any other string that quotes a URL
      // (an error message, a caller's field) is masked too, so no line carries a URL secret.
      formatters: { log: (object) => redactStrings(object, 0) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((arg) => (typeof arg === 'string' ? redactText(arg) : arg)) as Parameters<typeof method>,
          );
        },
      },
    },
    destination ?? pino.destination({ dest: 2, sync: true }),
  );
}

/** Every string in a log object (a few levels deep) through `redactText`. */
function redactStrings(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactText(value);
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactStrings(v, depth + 1));
  if (value instanceof Error) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactStrings(v, depth + 1)]));
}
