import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  detectSystemProxy,
  parseGnomeProxy,
  parseKdeProxy,
  parseMacosProxy,
  parseWindowsProxy,
  runCommand,
} from '../src/index.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('Windows registry (reg query "Internet Settings")', () => {
  it('host:port for every scheme, with ProxyOverride and <local> (Clash for Windows style)', () => {
    expect(parseWindowsProxy(fixture('windows-clash.txt'))).toMatchObject({
      source: 'windows-registry',
      enabled: true,
      http: 'http://127.0.0.1:7890',
      https: 'http://127.0.0.1:7890',
      socks: null,
      bypass: ['localhost', '127.*', '10.*', '172.16.*', '172.17.*', '192.168.*', '<local>'],
      pacUrl: null,
    });
  });
  it('per-scheme form http=…;https=…;socks=… and AutoConfigURL (v2rayN style)', () => {
    expect(parseWindowsProxy(fixture('windows-per-scheme.txt'))).toMatchObject({
      enabled: true,
      http: 'http://127.0.0.1:10809',
      https: 'http://127.0.0.1:10809',
      socks: 'socks4://127.0.0.1:10808',
      pacUrl: 'http://127.0.0.1:10810/pac/proxy.js',
    });
  });
  it('ProxyEnable=0 means no manual proxy', () => {
    expect(parseWindowsProxy(fixture('windows-disabled.txt'))).toMatchObject({ enabled: false, http: null });
  });
});

describe('macOS (scutil --proxy)', () => {
  it('HTTP/HTTPS/SOCKS with exceptions (Clash Verge Rev style)', () => {
    expect(parseMacosProxy(fixture('macos-scutil.txt'))).toMatchObject({
      source: 'macos-scutil',
      enabled: true,
      http: 'http://127.0.0.1:7897',
      https: 'http://127.0.0.1:7897',
      socks: 'socks5://127.0.0.1:7897',
      bypass: ['127.0.0.1', 'localhost', '*.local', '169.254/16', '192.168.0.0/16'],
      pacUrl: null,
    });
  });
  it('PAC only', () => {
    expect(parseMacosProxy(fixture('macos-scutil-pac.txt'))).toMatchObject({
      enabled: true,
      http: null,
      pacUrl: 'http://127.0.0.1:33331/commands/pac',
    });
  });
});

describe('GNOME (gsettings list-recursively org.gnome.system.proxy)', () => {
  it('manual mode', () => {
    expect(parseGnomeProxy(fixture('gnome-manual.txt'))).toMatchObject({
      source: 'gnome-gsettings',
      enabled: true,
      http: 'http://127.0.0.1:7890',
      https: 'http://127.0.0.1:7890',
      socks: 'socks5://127.0.0.1:7891',
      bypass: ['localhost', '127.0.0.0/8', '::1', '*.qq.com.cn'],
    });
  });
  it('auto mode reports the PAC URL', () => {
    expect(parseGnomeProxy(fixture('gnome-auto.txt'))).toMatchObject({
      enabled: true,
      http: null,
      bypass: [],
      pacUrl: 'http://127.0.0.1:7890/proxy.pac',
    });
  });
  it('mode none', () => {
    expect(parseGnomeProxy("org.gnome.system.proxy mode 'none'\n").enabled).toBe(false);
  });
});

describe('KDE (kioslaverc)', () => {
  it('ProxyType=1 with "host port" values', () => {
    expect(parseKdeProxy(fixture('kde-manual.kioslaverc'))).toMatchObject({
      source: 'kde-kioslaverc',
      enabled: true,
      http: 'http://127.0.0.1:7890',
      https: 'http://127.0.0.1:7890',
      socks: 'socks5://127.0.0.1:7891',
      bypass: ['localhost', '127.0.0.1', '.qq.com.cn'],
    });
  });
  it('ProxyType=2 reports the PAC script', () => {
    expect(parseKdeProxy(fixture('kde-pac.kioslaverc'))).toMatchObject({
      enabled: true,
      http: null,
      pacUrl: 'http://127.0.0.1:7890/proxy.pac',
    });
  });
  it('ProxyType=4 defers to the environment variables', () => {
    expect(parseKdeProxy(fixture('kde-env.kioslaverc'))).toMatchObject({
      enabled: false,
      fromEnvironment: true,
    });
  });
  it('ProxyType=0 is none', () => {
    expect(parseKdeProxy('[Proxy Settings]\nProxyType=0\nhttpProxy=http://127.0.0.1 7890\n').enabled).toBe(
      false,
    );
  });
});

const gsettings = await runCommand('gsettings', ['--version']);

describe('detectSystemProxy on this machine, for real', () => {
  it('reads a real kioslaverc from XDG_CONFIG_HOME in a KDE session', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'detour-kde-'));
    try {
      writeFileSync(join(dir, 'kioslaverc'), fixture('kde-manual.kioslaverc'));
      const result = await detectSystemProxy({
        platform: 'linux',
        env: { XDG_CURRENT_DESKTOP: 'KDE', XDG_CONFIG_HOME: dir },
      });
      expect(result).toMatchObject({ found: true, settings: { http: 'http://127.0.0.1:7890' } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!gsettings.ok)(
    `reads GNOME settings through the real gsettings (keyfile backend)${gsettings.ok ? '' : ` — skipped: ${gsettings.error}; .ci/system-deps.sh installs libglib2.0-bin`}`,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'detour-gnome-'));
      try {
        const env = {
          PATH: process.env.PATH,
          HOME: dir,
          XDG_CONFIG_HOME: dir,
          XDG_CURRENT_DESKTOP: 'GNOME',
          GSETTINGS_BACKEND: 'keyfile',
        };
        // Write the settings with the real gsettings, as GNOME's control center would.
        for (const [schema, key, value] of [
          ['org.gnome.system.proxy', 'mode', 'manual'],
          ['org.gnome.system.proxy.https', 'host', '127.0.0.1'],
          ['org.gnome.system.proxy.https', 'port', '7897'],
          ['org.gnome.system.proxy', 'ignore-hosts', "['localhost', '*.qq.com.cn']"],
        ] as const) {
          const set = await runCommand('gsettings', ['set', schema, key, value], { env });
          expect(set.error).toBeUndefined();
        }
        const result = await detectSystemProxy({ platform: 'linux', env });
        expect(result).toMatchObject({
          found: true,
          settings: { source: 'gnome-gsettings', enabled: true, https: 'http://127.0.0.1:7897' },
        });
        if (result.found) expect(result.settings.bypass).toEqual(['localhost', '*.qq.com.cn']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('never throws: a missing command is reported as a reason', async () => {
    const result = await detectSystemProxy({
      platform: 'darwin',
      run: async () => ({ ok: false, stdout: '', error: 'scutil not found' }),
    });
    expect(result).toEqual({ found: false, reason: 'scutil not found' });
    const linux = await detectSystemProxy({ platform: 'linux', env: {} });
    expect(linux.found).toBe(false);
  });
});
