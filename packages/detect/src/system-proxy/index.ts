import { join } from 'node:path';
import { type ReadText, type RunCommand, readTextFile, runCommand } from '../run-command.js';
import { parseGnomeProxy } from './gnome.js';
import { parseKdeProxy } from './kde.js';
import { parseMacosProxy } from './macos.js';
import type { SystemProxy } from './types.js';
import { parseWindowsProxy, WINDOWS_INTERNET_SETTINGS } from './windows.js';

export { parseGnomeProxy, parseGsettings } from './gnome.js';
export { parseKdeProxy, parseKioslaverc } from './kde.js';
export { parseMacosProxy, parseScutil } from './macos.js';
export type { SystemProxy } from './types.js';
export { parseRegQuery, parseWindowsProxy, WINDOWS_INTERNET_SETTINGS } from './windows.js';

export interface SystemProxyProbe {
  platform?: NodeJS.Platform;
  env?: Record<string, string | undefined>;
  run?: RunCommand;
  readText?: ReadText;
  timeoutMs?: number;
}

/** What the OS settings say, or why nothing could be read. Never throws. */
export type SystemProxyResult = { found: true; settings: SystemProxy } | { found: false; reason: string };

/** Read the OS proxy settings: Windows registry, macOS scutil, GNOME gsettings, KDE kioslaverc. */
export async function detectSystemProxy(probe: SystemProxyProbe = {}): Promise<SystemProxyResult> {
  const platform = probe.platform ?? process.platform;
  const run = probe.run ?? runCommand;
  const env = probe.env ?? {};
  const timeoutMs = probe.timeoutMs ?? 2_000;
  try {
    if (platform === 'win32') {
      const out = await run('reg', ['query', WINDOWS_INTERNET_SETTINGS], { timeoutMs });
      return out.ok
        ? { found: true, settings: parseWindowsProxy(out.stdout) }
        : { found: false, reason: out.error ?? 'reg failed' };
    }
    if (platform === 'darwin') {
      const out = await run('scutil', ['--proxy'], { timeoutMs });
      return out.ok
        ? { found: true, settings: parseMacosProxy(out.stdout) }
        : { found: false, reason: out.error ?? 'scutil failed' };
    }
    const desktop = `${env.XDG_CURRENT_DESKTOP ?? ''}:${env.DESKTOP_SESSION ?? ''}`.toLowerCase();
    const reasons: string[] = [];
    if (desktop.includes('kde') || env.KDE_FULL_SESSION) {
      const home = env.XDG_CONFIG_HOME ?? (env.HOME ? join(env.HOME, '.config') : undefined);
      const text = home ? await (probe.readText ?? readTextFile)(join(home, 'kioslaverc')) : undefined;
      if (text !== undefined) return { found: true, settings: parseKdeProxy(text) };
      reasons.push('no kioslaverc');
    }
    if (
      desktop.includes('gnome') ||
      desktop.includes('unity') ||
      desktop.includes('cinnamon') ||
      env.GSETTINGS_BACKEND
    ) {
      const out = await run('gsettings', ['list-recursively', 'org.gnome.system.proxy'], {
        timeoutMs,
        env: { ...env },
      });
      if (out.ok) return { found: true, settings: parseGnomeProxy(out.stdout) };
      reasons.push(out.error ?? 'gsettings failed');
    }
    return {
      found: false,
      reason: reasons.length ? reasons.join('; ') : 'no desktop proxy settings (not GNOME or KDE)',
    };
  } catch (error) {
    return { found: false, reason: `system proxy probe failed: ${(error as Error).message}` };
  }
}
