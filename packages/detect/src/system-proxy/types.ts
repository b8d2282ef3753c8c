import { normalizeProxyUrl } from '../proxy-env.js';

/** What an operating system's proxy settings say, normalised across platforms. */
export interface SystemProxy {
  /** Where it was read: `windows-registry`, `macos-scutil`, `gnome-gsettings`, `kde-kioslaverc`. */
  source: string;
  enabled: boolean;
  http: string | null;
  https: string | null;
  socks: string | null;
  /** Hosts that bypass the proxy, as the OS lists them (`<local>` included). */
  bypass: string[];
  /** A PAC (proxy auto-config) URL, when the settings name one. */
  pacUrl: string | null;
  /** The settings say "use the environment variables" (KDE ProxyType=4). */
  fromEnvironment?: boolean;
}

export const noSystemProxy = (source: string): SystemProxy => ({
  source,
  enabled: false,
  http: null,
  https: null,
  socks: null,
  bypass: [],
  pacUrl: null,
});

/** `host:port` (or a URL) → URL with `scheme` as the default scheme; empty or unusable → null. */
export function proxyUrl(value: string | undefined | null, scheme: string): string | null {
  const text = value?.trim();
  return text ? normalizeProxyUrl(text, scheme) : null;
}
