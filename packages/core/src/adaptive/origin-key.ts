/** `https://host:443`: scheme, host and port, the unit route memory and the circuit work on. */
export function originOf(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : url.protocol === 'http:' ? '80' : '');
  return `${url.protocol}//${url.hostname}:${port}`;
}

/**
 * The key of one origin in one network environment. The environment fingerprint is part of the
 * key, so turning a proxy or TUN on or off starts from a clean slate instead of replaying what
 * worked on another network.
 */
export function routeKey(url: URL, fingerprint: string): string {
  return `${fingerprint}|${originOf(url)}`;
}
