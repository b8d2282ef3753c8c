import pino, { type Logger } from 'pino';

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
    { name: 'detour', level, redact: { paths: REDACT_PATHS, censor: '***' } },
    destination ?? pino.destination({ dest: 2, sync: true }),
  );
}
