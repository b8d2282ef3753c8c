import type { SystemProxy } from './system-proxy/types.js';

export interface PacReport {
  /** The PAC URL the system settings name, if any. Detour reports it; it does not evaluate it. */
  url: string | null;
  source: string | null;
}

/** PAC found in the system settings (Windows AutoConfigURL, macOS ProxyAutoConfigURLString, GNOME autoconfig-url, KDE Proxy Config Script). */
export function pacFrom(system: SystemProxy | null): PacReport {
  return system?.pacUrl ? { url: system.pacUrl, source: system.source } : { url: null, source: null };
}
