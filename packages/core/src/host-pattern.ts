/**
 * Host patterns as callers write them in options: `example.com` (that host only), `*.example.com`
 * (every subdomain, at any depth, not `example.com` itself), `*` (every host). Case-insensitive;
 * a trailing dot and IPv6 brackets are ignored. Used by every strategy that is scoped to named hosts (insecureHosts, downgrade hosts).
 */
export function hostMatches(host: string, patterns: readonly string[]): boolean {
  const name = normalize(host);
  if (!name) return false;
  for (const raw of patterns) {
    const pattern = normalize(raw);
    if (!pattern) continue;
    if (pattern === '*') return true;
    if (pattern.startsWith('*.')) {
      const suffix = pattern.slice(1); // ".example.com"
      if (name.length > suffix.length && name.endsWith(suffix)) return true;
    } else if (name === pattern) {
      return true;
    }
  }
  return false;
}

function normalize(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}
