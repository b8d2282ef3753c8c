/** `detour cache ls | prune | clear --cache-dir DIR`: look into a disk cache and keep it in bounds. */
import { existsSync } from 'node:fs';
import { DEFAULT_DISK_CACHE_MAX_SIZE, type DiskCacheEntryInfo, DiskCacheStore } from '@detour/core/internal';
import { parse } from '../args.js';
import { CACHE } from '../definitions.js';
import { type CliIo, EXIT_OK, UsageError, write } from '../io.js';
import { formatBytes } from '../progress.js';
import { parseSize } from '../size.js';
import { table } from '../table.js';

const ACTIONS = ['ls', 'prune', 'clear'] as const;

export async function runCache(argv: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parse(CACHE, argv);
  const [action, ...extra] = positionals;
  if (!action || !ACTIONS.includes(action as (typeof ACTIONS)[number])) {
    throw new UsageError(
      `cache takes one of ${ACTIONS.join(', ')}${action ? `, got ${JSON.stringify(action)}` : ''} (see detour cache --help)`,
    );
  }
  if (extra.length)
    throw new UsageError(`cache ${action} takes no other argument, got ${JSON.stringify(extra[0])}`);
  const dir = flags.string('cache-dir');
  if (!dir)
    throw new UsageError(
      `cache ${action} needs --cache-dir DIR (the directory detour fetch --cache-dir used)`,
    );
  const maxSize = parseSize('--max-size', flags.string('max-size'));
  if (maxSize !== undefined && action !== 'prune') throw new UsageError('--max-size is for cache prune');
  const json = flags.bool('json');
  // A directory that does not exist is an empty cache, never created by looking at it.
  const store = new DiskCacheStore(dir, { maxSize: 0 });
  const exists = existsSync(dir);
  if (action === 'ls') {
    const entries = exists ? await store.list() : [];
    write(io.stdout, json ? JSON.stringify(entries.map(jsonEntry), null, 2) : listing(entries));
    return EXIT_OK;
  }
  const empty = { removed: 0, removedBytes: 0, size: 0 };
  const result = !exists
    ? empty
    : action === 'clear'
      ? await store.clear()
      : await store.trim(maxSize ?? DEFAULT_DISK_CACHE_MAX_SIZE);
  if (json) write(io.stdout, JSON.stringify(result));
  else {
    write(
      io.stdout,
      `removed ${result.removed} ${result.removed === 1 ? 'entry' : 'entries'} (${formatBytes(result.removedBytes)}); ${dir} now holds ${formatBytes(result.size)}`,
    );
  }
  return EXIT_OK;
}

function flagsOf(entry: DiskCacheEntryInfo): string[] {
  return [
    entry.insecure ? 'insecure' : '',
    entry.downgraded ? 'downgraded' : '',
    entry.private ? 'private' : '',
    entry.expired ? 'expired' : '',
  ].filter(Boolean);
}

function jsonEntry(entry: DiskCacheEntryInfo) {
  return {
    url: entry.url,
    size: entry.bytes,
    format: entry.format,
    contentType: entry.contentType,
    strategy: entry.strategy,
    storedAt: new Date(entry.storedAt).toISOString(),
    lastUsedAt: new Date(entry.lastUsedAt).toISOString(),
    expiresAt: new Date(entry.expiresAt).toISOString(),
    flags: flagsOf(entry),
    key: entry.key,
  };
}

function listing(entries: DiskCacheEntryInfo[]): string {
  if (entries.length === 0) return 'the cache is empty';
  const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
  const rows = entries.map((e) => [
    time(e.lastUsedAt),
    time(e.storedAt),
    formatBytes(e.bytes),
    e.format ?? '-',
    e.strategy,
    flagsOf(e).join(',') || '-',
    e.url,
  ]);
  const total = entries.reduce((sum, e) => sum + e.bytes, 0);
  return `${table(['last used (UTC)', 'stored (UTC)', 'size', 'format', 'strategy', 'flags', 'url'], rows)}\n\n${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}, ${formatBytes(total)}`;
}
