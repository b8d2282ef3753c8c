/**
 * Issue 9, item 6: DNS rebinding through proxies, against real microsocks and tinyproxy and a DNS
 * server the test controls. Everything runs inside a network namespace this test creates (only
 * loopback; its /etc/resolv.conf points at the scripted DNS server on 127.0.0.1:53), so the
 * pipeline resolves with the real system resolver, as in production.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ns = `detour-pin-${process.pid}`;
const nsUp = await run('ip', ['netns', 'add', ns]).then(
  () => true,
  (e: Error) => e.message.split('\n')[0]!,
);
const script = fileURLToPath(new URL('./fixtures/pinning-in-namespace.ts', import.meta.url));
const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));

interface Outcome {
  ok: boolean;
  failureClass?: string;
  code?: string;
  message?: string;
  body?: string;
  queries: number;
  originHits: number;
}
let out: Record<string, Outcome>;

describe.skipIf(nsUp !== true)(
  `DNS pinning through proxies, in a namespace${nsUp === true ? '' : ` — skipped: ip netns add failed (${nsUp})`}`,
  () => {
    beforeAll(async () => {
      mkdirSync(`/etc/netns/${ns}`, { recursive: true });
      writeFileSync(`/etc/netns/${ns}/resolv.conf`, 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
      await run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
      const { stdout } = await run('ip', ['netns', 'exec', ns, tsx, script], { timeout: 120_000 });
      out = JSON.parse(stdout);
    }, 150_000);
    afterAll(async () => {
      await run('ip', ['netns', 'del', ns]).catch(() => {});
      rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
    });

    it('socks5://: a name that rebinds is resolved once; the checked (public) address is what the proxy gets', () => {
      // The first answer is public (unreachable here); the second would be 127.0.0.1.
      expect(out.socks5Rebind).toMatchObject({ ok: false, queries: 1, originHits: 0 });
    });

    it('socks5://: a name resolving to 127.0.0.1 is refused before the proxy is asked', () => {
      expect(out.socks5Private).toMatchObject({
        ok: false,
        failureClass: 'blocked',
        code: 'DETOUR_PRIVATE_ADDRESS',
        queries: 1,
        originHits: 0,
      });
    });

    it('socks5h:// and HTTP CONNECT keep the name by default: the proxy resolves again (best effort, documented)', () => {
      expect(out.socks5hRebind).toMatchObject({ ok: true, queries: 2, originHits: 1 });
      expect(out.connectRebind).toMatchObject({ ok: true, queries: 2, originHits: 1 });
    });

    it('pinResolvedAddress: socks5h:// and HTTP CONNECT get the checked address, never the name', () => {
      expect(out.socks5hPinned).toMatchObject({ ok: false, queries: 1, originHits: 0 });
      expect(out.connectPinned).toMatchObject({ ok: false, queries: 1, originHits: 0 });
      expect(out.connectPinnedPrivate).toMatchObject({
        ok: false,
        failureClass: 'blocked',
        code: 'DETOUR_PRIVATE_ADDRESS',
        queries: 1,
        originHits: 0,
      });
    });

    it('pinned: the Host header and TLS keep the name (the proxy only sees the address)', () => {
      expect(out.hostKept).toMatchObject({ ok: true, queries: 1, originHits: 1 });
      const headers = JSON.parse(out.hostKept!.body!) as Record<string, string>;
      expect(headers.host).toMatch(/^host-kept\.example\.com:\d+$/);
      // The lab certificate is for localhost/127.0.0.1: verified against the name, it fails.
      expect(out.sniKept).toMatchObject({ ok: false, failureClass: 'tls-certificate', queries: 1 });
      expect(out.sniKept!.message).toContain('sni-kept.example.com');
    });
  },
);
