import { Resolver } from 'node:dns/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ScriptedDns, startScriptedDns } from '../src/index.js';

let dns: ScriptedDns;
let resolver: Resolver;
beforeAll(async () => {
  dns = await startScriptedDns({ records: { 'rebind.example.com': ['93.184.216.34', '127.0.0.1'] } });
  resolver = new Resolver({ timeout: 1_000, tries: 1 });
  resolver.setServers([dns.server]);
});
afterAll(async () => {
  await dns?.close();
});

describe('scripted DNS server', () => {
  it('answers A queries in sequence (rebinding), any case, counting them; AAAA empty; others NXDOMAIN', async () => {
    expect(await resolver.resolve4('rebind.example.com')).toEqual(['93.184.216.34']);
    expect(await resolver.resolve4('REBIND.example.com')).toEqual(['127.0.0.1']);
    expect(await resolver.resolve4('rebind.example.com')).toEqual(['127.0.0.1']);
    expect(dns.queries('rebind.example.com')).toBe(3);
    await expect(resolver.resolve6('rebind.example.com')).rejects.toMatchObject({ code: 'ENODATA' });
    await expect(resolver.resolve4('other.example.com')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(dns.queries('rebind.example.com')).toBe(3);
  });
});
