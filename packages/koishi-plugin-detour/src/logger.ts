/**
 * Detour logs with pino (JSON lines, secrets redacted). In Koishi they belong in Koishi's own
 * logger, so each line is parsed and handed to `ctx.logger('detour')` at the matching level.
 */
import { createLogger } from '@detour/core';

/** The part of Koishi's `Logger` the bridge uses. */
export interface KoishiLogger {
  debug(format: unknown, ...params: unknown[]): void;
  info(format: unknown, ...params: unknown[]): void;
  warn(format: unknown, ...params: unknown[]): void;
  error(format: unknown, ...params: unknown[]): void;
}

/** pino's bookkeeping fields, left out of what Koishi prints. */
const BOOKKEEPING = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg']);

/** pino's numeric level → the Koishi logger method. */
function method(level: number): keyof KoishiLogger {
  if (level >= 50) return 'error';
  if (level >= 40) return 'warn';
  if (level >= 30) return 'info';
  return 'debug';
}

/** One pino JSON line → a Koishi log call: the message, then the fields as compact JSON. */
export function forwardLine(target: KoishiLogger, line: string): void {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    target.info('%s', line.trimEnd());
    return;
  }
  const fields = Object.fromEntries(Object.entries(record).filter(([key]) => !BOOKKEEPING.has(key)));
  const message = typeof record.msg === 'string' ? record.msg : '';
  const level = typeof record.level === 'number' ? record.level : 30;
  if (Object.keys(fields).length) target[method(level)]('%s %s', message, JSON.stringify(fields));
  else target[method(level)]('%s', message);
}

/** A pino logger at `level` whose lines go to `target` (redaction as in every Detour logger). */
export function koishiPinoLogger(target: KoishiLogger, level: string): ReturnType<typeof createLogger> {
  return createLogger(level, { write: (line) => forwardLine(target, line) });
}
