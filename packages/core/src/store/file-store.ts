/**
 * A KeyValueStore in one JSON file of a state directory, so that what a pipeline learned (route
 * memory, open circuits) survives the process: a CLI started per image, a bot restarted nightly.
 * Several processes may share the directory: every save takes a lock file, re-reads the file,
 * merges its own changes into it (the newer change of a key wins) and replaces it atomically (a
 * temp file renamed over it), so a reader never sees half a file and no process erases another's
 * entries. A file that is not Detour's state (corrupt, foreign, another version) is ignored with a
 * warning and replaced on the next save.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join, posix, win32 } from 'node:path';
import type { Clock, KeyValueStore } from './store-types.js';

export interface FileStateStoreOptions {
  /**
   * Entries are kept per namespace (e.g. a network's fingerprint): another namespace starts empty
   * and the same file holds several. Default `default`.
   */
  namespace?: string;
  /** The file's name in the directory (default `state.json`). */
  fileName?: string;
  /** How long changes wait to be saved together (default 25 ms; `flush()` saves at once). */
  saveDelayMs?: number;
  /** Told once about a file that was ignored or a save that failed (default: nothing). */
  warn?: (message: string) => void;
  now?: Clock;
}

/** One value in the file. `at`: when it was last changed (the newer change wins a merge). */
interface Entry {
  value: string;
  expiresAt: number;
  at: number;
}

/** The file: `{ format, v, networks: { <namespace>: { <key>: Entry } } }`. */
interface StateFile {
  format: typeof FORMAT;
  v: 1;
  networks: Record<string, Record<string, Entry>>;
}

const FORMAT = 'detour-state';
/** A lock older than this is taken as left behind by a process that died. */
const STALE_LOCK_MS = 5_000;
/** Longest wait for the lock; then the save goes ahead without it (the rename keeps the file whole). */
const LOCK_WAIT_MS = 1_000;

export class FileStateStore implements KeyValueStore {
  readonly shared = false;
  readonly dir: string;
  readonly path: string;
  readonly namespace: string;
  readonly #now: Clock;
  readonly #warn: (message: string) => void;
  readonly #saveDelayMs: number;
  #entries: Map<string, Entry> | undefined;
  /** Changes not saved yet: an entry, or `null` for a deletion (with its time). */
  readonly #dirty = new Map<string, { entry: Entry | null; at: number }>();
  #timer: NodeJS.Timeout | undefined;
  #saving: Promise<void> = Promise.resolve();

  constructor(dir: string, options: FileStateStoreOptions = {}) {
    this.dir = dir;
    this.path = join(dir, options.fileName ?? 'state.json');
    this.namespace = options.namespace ?? 'default';
    this.#now = options.now ?? Date.now;
    this.#warn = options.warn ?? (() => {});
    this.#saveDelayMs = Math.max(0, options.saveDelayMs ?? 25);
  }

  async get(key: string): Promise<string | undefined> {
    const entry = this.#load().get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) return undefined;
    return entry.value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    const at = this.#now();
    const entry = { value, expiresAt: ttlMs > 0 ? at + ttlMs : Number.MAX_SAFE_INTEGER, at };
    this.#load().set(key, entry);
    this.#dirty.set(key, { entry, at });
    this.#schedule();
  }

  async delete(key: string): Promise<void> {
    if (!this.#load().delete(key) && !this.#dirty.has(key)) return;
    this.#dirty.set(key, { entry: null, at: this.#now() });
    this.#schedule();
  }

  /** Save the changes not saved yet (and take in what other processes saved). */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#saving = this.#saving.then(() => this.#save());
    return this.#saving;
  }

  /** Saves what is pending; the store stays usable (a caller's store is closed by the caller). */
  close(): Promise<void> {
    return this.flush();
  }

  #schedule(): void {
    // A timer that keeps the process alive until the save: a CLI that exits without close()
    // still leaves what it learned.
    this.#timer ??= setTimeout(() => void this.flush(), this.#saveDelayMs);
  }

  /** The entries of this namespace, read from the file on first use. */
  #load(): Map<string, Entry> {
    if (this.#entries) return this.#entries;
    let text: string | undefined;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.#warn(`state file ${this.path} could not be read (${(error as Error).message}); starting empty`);
      }
    }
    const file = text === undefined ? emptyFile() : this.#parse(text);
    this.#entries = new Map(Object.entries(file.networks[this.namespace] ?? {}));
    return this.#entries;
  }

  /** The file's content, or an empty state (with a warning) when it is not Detour's state. */
  #parse(text: string): StateFile {
    try {
      const file = JSON.parse(text) as Partial<StateFile> | null;
      if (file?.format === FORMAT && file.v === 1 && isRecord(file.networks)) {
        return { format: FORMAT, v: 1, networks: cleanNetworks(file.networks) };
      }
    } catch {
      // fall through: not JSON
    }
    this.#warn(
      `state file ${this.path} is not Detour state (corrupt or foreign); ignored, and replaced on the next save`,
    );
    return emptyFile();
  }

  async #save(): Promise<void> {
    if (this.#dirty.size === 0) return;
    const changes = new Map(this.#dirty);
    this.#dirty.clear();
    try {
      await mkdir(this.dir, { recursive: true });
      const unlock = await this.#lock();
      try {
        const file = await this.#readForMerge();
        const mine = mergeInto(file, this.namespace, changes, this.#now());
        const temp = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
        await writeFile(temp, JSON.stringify(file), { mode: 0o600 });
        await rename(temp, this.path).catch(async (error: unknown) => {
          await unlink(temp).catch(() => {});
          throw error;
        });
        this.#entries = new Map(Object.entries(mine));
      } finally {
        await unlock();
      }
    } catch (error) {
      this.#warn(`state not saved to ${this.path}: ${(error as Error).message}`);
    }
  }

  /** The file as it is now on disk (another process may have saved since we read it). */
  async #readForMerge(): Promise<StateFile> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch {
      return emptyFile();
    }
    try {
      const file = JSON.parse(text) as Partial<StateFile> | null;
      if (file?.format === FORMAT && file.v === 1 && isRecord(file.networks)) {
        return { format: FORMAT, v: 1, networks: cleanNetworks(file.networks) };
      }
    } catch {
      // replaced below: the warning was given when it was loaded
    }
    return emptyFile();
  }

  /** Take `<file>.lock` (exclusive create); break one left by a dead process; give up waiting after a while. */
  async #lock(): Promise<() => Promise<void>> {
    const lockPath = `${this.path}.lock`;
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const handle = await open(lockPath, 'wx');
        await handle.close();
        return () => unlink(lockPath).catch(() => {});
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const age = await stat(lockPath).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > STALE_LOCK_MS) await unlink(lockPath).catch(() => {});
      else if (Date.now() > deadline) return async () => {};
      else await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 10));
    }
  }
}

function emptyFile(): StateFile {
  return { format: FORMAT, v: 1, networks: {} };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Only well-formed entries survive a read. */
function cleanNetworks(networks: Record<string, unknown>): StateFile['networks'] {
  const clean: StateFile['networks'] = {};
  for (const [name, entries] of Object.entries(networks)) {
    if (!isRecord(entries)) continue;
    const kept: Record<string, Entry> = {};
    for (const [key, raw] of Object.entries(entries)) {
      const entry = raw as Partial<Entry> | null;
      if (
        typeof entry?.value === 'string' &&
        typeof entry.expiresAt === 'number' &&
        typeof entry.at === 'number'
      ) {
        kept[key] = { value: entry.value, expiresAt: entry.expiresAt, at: entry.at };
      }
    }
    clean[name] = kept;
  }
  return clean;
}

/**
 * Apply this process's changes to the file read from disk: the newer change of a key wins, expired
 * entries are dropped (in every namespace), an empty namespace goes. Returns this namespace's entries.
 */
function mergeInto(
  file: StateFile,
  namespace: string,
  changes: Map<string, { entry: Entry | null; at: number }>,
  now: number,
): Record<string, Entry> {
  const mine = file.networks[namespace] ?? {};
  for (const [key, change] of changes) {
    const current = mine[key];
    if (current && current.at > change.at) continue;
    if (change.entry) mine[key] = change.entry;
    else delete mine[key];
  }
  file.networks[namespace] = mine;
  for (const [name, entries] of Object.entries(file.networks)) {
    for (const [key, entry] of Object.entries(entries)) if (entry.expiresAt <= now) delete entries[key];
    if (Object.keys(entries).length === 0) delete file.networks[name];
  }
  return mine;
}

/**
 * Where Detour keeps its state by default: `$XDG_STATE_HOME/detour`, else `~/.local/state/detour`;
 * on Windows `%LOCALAPPDATA%\\detour`. Undefined when none of them is known.
 */
export function defaultStateDir(
  env: Record<string, string | undefined> = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string | undefined = env.HOME ?? env.USERPROFILE,
): string | undefined {
  if (platform === 'win32') {
    const base = env.LOCALAPPDATA ?? (home ? win32.join(home, 'AppData', 'Local') : undefined);
    return base ? win32.join(base, 'detour') : undefined;
  }
  if (env.XDG_STATE_HOME && posix.isAbsolute(env.XDG_STATE_HOME))
    return posix.join(env.XDG_STATE_HOME, 'detour');
  return home ? posix.join(home, '.local', 'state', 'detour') : undefined;
}
