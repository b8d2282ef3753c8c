import { type RunningDns, startDnsmasq } from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectFakeIp } from '../src/index.js';

/** Real DNS servers on loopback (dnsmasq): one answering like mihomo's fake-IP DNS, one like a normal resolver. */
let fake: RunningDns;
let real: RunningDns;
let fake6: RunningDns;
let filtered: RunningDns;

beforeAll(async () => {
  [fake, real, fake6] = await Promise.all([
    startDnsmasq(['198.18.0.7']),
    // Only a DNS answer: nothing ever connects to it.
    startDnsmasq(['93.184.216.34']),
    startDnsmasq(['198.19.3.4', 'fc00::8']),
  ]);
  // Like mihomo with `fake-ip-filter: ['+.qq.com']`: real answers for qq.com, fake ones for the rest.
  filtered = await startDnsmasq(['198.18.0.9'], { 'qq.com': '93.184.216.34' });
});
afterAll(async () => {
  await Promise.all([fake?.close(), real?.close(), fake6?.close(), filtered?.close()]);
});

describe('fake-IP DNS, against real dnsmasq servers on 127.0.0.1', () => {
  it('every answer in 198.18.0.0/15: active', async () => {
    const report = await detectFakeIp({
      servers: [fake.server],
      names: ['multimedia.nt.qq.com.cn', 'www.qq.com'],
    });
    expect(report.active).toBe(true);
    expect(report.samples).toEqual([
      { name: 'multimedia.nt.qq.com.cn', addresses: ['198.18.0.7'] },
      { name: 'www.qq.com', addresses: ['198.18.0.7'] },
    ]);
  });
  it('sing-box style 198.19.x with an fc00:: v6 answer: active', async () => {
    const report = await detectFakeIp({ servers: [fake6.server], names: ['www.qq.com'] });
    expect(report.active).toBe(true);
    expect(report.samples[0]!.addresses).toEqual(['198.19.3.4', 'fc00::8']);
  });
  it('real-looking answers: not active', async () => {
    const report = await detectFakeIp({ servers: [real.server], names: ['www.qq.com'] });
    expect(report).toMatchObject({ active: false, reason: 'answers are real addresses' });
  });
  it('some names filtered out of fake-IP (real answers), others faked: still active, and the reason says which', async () => {
    const report = await detectFakeIp({
      servers: [filtered.server],
      names: ['www.qq.com', 'www.example.org'],
    });
    expect(report.samples).toEqual([
      { name: 'www.qq.com', addresses: ['93.184.216.34'] },
      { name: 'www.example.org', addresses: ['198.18.0.9'] },
    ]);
    expect(report.active).toBe(true);
    expect(report.reason).toMatch(
      /www\.example\.org answered in a fake-IP range.*www\.qq\.com answered real addresses/,
    );
  });
  it('a configured range counts too', async () => {
    const report = await detectFakeIp({
      servers: [real.server],
      names: ['www.qq.com'],
      ranges: ['93.184.216.0/24'],
    });
    expect(report.active).toBe(true);
  });
  it('no DNS server answering: unknown, with the reason, within the bound', async () => {
    const report = await detectFakeIp({ servers: ['127.0.0.1:9'], names: ['www.qq.com'], timeoutMs: 500 });
    expect(report.active).toBeNull();
    expect(report.reason).toMatch(/no DNS answers/);
  });
  it('a bad server address is reported, not thrown', async () => {
    const report = await detectFakeIp({ servers: ['not an address'] });
    expect(report.active).toBeNull();
  });
});
