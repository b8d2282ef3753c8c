/**
 * A recent detection, kept in a file for a short while (issue 25 item 3): a CLI started per image
 * then does not run the OS probes (`ip route`, desktop proxy settings, fake-IP lookups) every
 * time. The file is keyed by cheap signals read at each start (proxy variables, default route,
 * resolver configuration, interfaces, and the detection's own options): a changed signal, an
 * age over `maxAgeMs`, or a file that is not a detection reads as "detect again". Written
 * atomically (temp file + rename); settings holding a proxy password are never written.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { EnvironmentReport, Sniffed } from './report.js';
import { networkSignals, signalsHash } from './signals.js';
import type { SystemProxy } from './system-proxy/types.js';

export interface ReuseOptions {
  /** The file (e.g. `<state dir>/detect.json`). */
  path: string;
  /** How long a detection is reused (default 60 s). */
  maxAgeMs?: number;
  now?: () => number;
}

export const REUSE_DEFAULT_MAX_AGE_MS = 60_000;

interface SavedDetection {
  format: 'detour-detect';
  v: 1;
  key: string;
  savedAt: number;
  report: EnvironmentReport;
  system: SystemProxy | null;
}

/** What the detection depends on, as one key. */
export function reuseKey(options: {
  env: Record<string, string | undefined>;
  proxy?: string | false | undefined;
  platform: NodeJS.Platform;
  detection: unknown;
}): string {
  const { env } = options;
  const desktop = ['XDG_CURRENT_DESKTOP', 'DESKTOP_SESSION', 'KDE_FULL_SESSION'].map((n) => env[n] ?? '');
  return signalsHash(
    networkSignals({ env, proxy: options.proxy, platform: options.platform }),
    JSON.stringify([options.platform, desktop, options.detection]),
  );
}

/** The saved detection for `key`, when it is recent enough. */
export function readReusable(reuse: ReuseOptions, key: string): SavedDetection | undefined {
  try {
    const saved = JSON.parse(readFileSync(reuse.path, 'utf8')) as Partial<SavedDetection> | null;
    const now = (reuse.now ?? Date.now)();
    const maxAge = reuse.maxAgeMs ?? REUSE_DEFAULT_MAX_AGE_MS;
    if (
      saved?.format !== 'detour-detect' ||
      saved.v !== 1 ||
      saved.key !== key ||
      typeof saved.savedAt !== 'number' ||
      saved.savedAt > now ||
      now - saved.savedAt > maxAge ||
      typeof saved.report !== 'object' ||
      saved.report === null
    ) {
      return undefined;
    }
    return saved as SavedDetection;
  } catch {
    return undefined;
  }
}

const hasPassword = (url: string | null) => url !== null && /:\/\/[^/@]*:[^/@]*@/.test(url);

/** Keep this detection for the next start (a failure to write only costs that start a detection). */
export async function saveReusable(reuse: ReuseOptions, key: string, sniffed: Sniffed): Promise<void> {
  const system = sniffed.system;
  if (system && [system.http, system.https, system.socks].some(hasPassword)) return;
  const saved: SavedDetection = {
    format: 'detour-detect',
    v: 1,
    key,
    savedAt: (reuse.now ?? Date.now)(),
    report: sniffed.report,
    system,
  };
  const temp = `${reuse.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await mkdir(dirname(reuse.path), { recursive: true });
    await writeFile(temp, JSON.stringify(saved), { mode: 0o600 });
    await rename(temp, reuse.path);
  } catch {
    await unlink(temp).catch(() => {});
  }
}
