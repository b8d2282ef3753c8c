/**
 * Preset hooks added for platforms beyond QQ, against a real HTTP server on loopback: a preset's
 * own `refreshUrl` (the pipeline's stays the catch-all), `expiresAt` judged before any request
 * (the dead URL never requested), and secrets a preset declares masked by every redaction.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPipeline, DetourError, type Preset, redactText, redactUrl } from '../src/index.js';

const hits: string[] = [];
let base: string;
let close: () => Promise<void>;

beforeAll(async () => {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    hits.push(`${url.pathname}${url.search}`);
    if (url.searchParams.get('sig') === 'old') {
      res.writeHead(410).end('expired');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(`file ${url.pathname}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise((resolve) => server.close(() => resolve()));
});
afterAll(() => close());
beforeEach(() => {
  hits.length = 0;
});

/** A preset for paths under /p/: `exp` is an expiry in epoch seconds, 410 means expired. */
function pathPreset(name: string, prefix: string, refreshed: string[]): Preset {
  return {
    name,
    handles: (url) => url.pathname.startsWith(prefix),
    expiresAt: (url) => {
      const exp = url.searchParams.get('exp');
      return exp === null ? undefined : Number(exp) * 1000;
    },
    classifyResponse: (sample) =>
      sample.status === 410
        ? { failureClass: 'url-expired', code: 'DETOUR_URL_EXPIRED', message: 'signature expired' }
        : undefined,
    refreshUrl: async (url) => {
      refreshed.push(name);
      const next = new URL(url);
      next.searchParams.set('sig', 'new');
      next.searchParams.set('exp', String(Math.floor(Date.now() / 1000) + 3600));
      return next.toString();
    },
  };
}

describe('presets that own their refresh', () => {
  it('refreshes each link through its own preset; the pipeline refreshUrl stays the catch-all', async () => {
    const refreshed: string[] = [];
    const catchAll: string[] = [];
    const pipeline = createPipeline({
      presets: [pathPreset('a', '/a/', refreshed), pathPreset('b', '/b/', refreshed)],
      refreshUrl: async (url) => {
        catchAll.push(url);
        return url.replace('sig=old', 'sig=new');
      },
      cache: false,
      allowPrivateNetwork: true,
    });
    try {
      const a = await pipeline.fetch(`${base}/a/one?sig=old`);
      const b = await pipeline.fetch(`${base}/b/two?sig=old`);
      expect(a.body.toString()).toBe('file /a/one');
      expect(b.body.toString()).toBe('file /b/two');
      expect(refreshed).toEqual(['a', 'b']);
      expect(catchAll).toEqual([]);
      expect(a.attempts.map((r) => r.strategy)).toContain('refresh');
    } finally {
      await pipeline.close();
    }
  });

  it('a link past its expiry is refreshed before any request: the dead URL is never requested', async () => {
    const refreshed: string[] = [];
    const pipeline = createPipeline({
      presets: [pathPreset('a', '/a/', refreshed)],
      cache: false,
      allowPrivateNetwork: true,
    });
    try {
      const past = Math.floor(Date.now() / 1000) - 60;
      const result = await pipeline.fetch(`${base}/a/late?sig=old&exp=${past}`);
      expect(result.body.toString()).toBe('file /a/late');
      expect(hits).toHaveLength(1);
      expect(hits[0]).toContain('sig=new');
      expect(result.attempts[0]).toMatchObject({ strategy: 'a', route: 'none', failureClass: 'url-expired' });
    } finally {
      await pipeline.close();
    }
  });

  it('without a refresher, a link past its expiry fails url-expired without a request', async () => {
    const preset: Preset = { ...pathPreset('a', '/a/', []), refreshUrl: undefined };
    const pipeline = createPipeline({ presets: [preset], cache: false, allowPrivateNetwork: true });
    try {
      const past = Math.floor(Date.now() / 1000) - 60;
      const error = await pipeline.fetch(`${base}/a/late?exp=${past}`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DetourError);
      expect(error).toMatchObject({ failureClass: 'url-expired', code: 'DETOUR_URL_EXPIRED' });
      expect(hits).toEqual([]);
    } finally {
      await pipeline.close();
    }
  });

  it('a refresh that gives another expired link fails url-expired: never a loop', async () => {
    const preset: Preset = {
      ...pathPreset('a', '/a/', []),
      refreshUrl: async (url) => url, // the same dead link
    };
    const pipeline = createPipeline({ presets: [preset], cache: false, allowPrivateNetwork: true });
    try {
      const error = await pipeline.fetch(`${base}/a/dead?sig=old`).catch((e: unknown) => e);
      expect(error).toMatchObject({ failureClass: 'url-expired' });
      expect(hits).toHaveLength(2);
    } finally {
      await pipeline.close();
    }
  });
});

describe('secrets a preset declares', () => {
  it('masks declared query names and path segments in URLs and free text', () => {
    const token = '987654:AAH-secretsecretsecretXYZ';
    const pipeline = createPipeline({
      presets: [
        {
          name: 'secretive',
          handles: () => false,
          secretQueryParams: ['zx_ticket'],
          secretPathSegments: /^bot(\d+:[\w-]{20,})$/,
        },
      ],
    });
    void pipeline.close();
    const url = `https://files.example.test/file/bot${token}/photos/a.jpg?zx_ticket=abc&w=1`;
    const masked = redactUrl(url);
    expect(masked).toBe('https://files.example.test/file/bot***/photos/a.jpg?zx_ticket=***&w=1');
    const text = redactText(`GET ${url} failed; path bot${token}/photos/a.jpg`);
    expect(text).not.toContain(token);
    expect(text).not.toContain('abc');
    expect(redactText('a bottle of bot-tles')).toBe('a bottle of bot-tles');
  });
});

describe('protocol-relative links', () => {
  it('`//host/path` (QQ official bot API attachments) is fetched as https', async () => {
    const { parseTargetUrl } = await import('../src/url.js');
    expect(parseTargetUrl('//multimedia.nt.qq.com.cn/download?fileid=x').href).toBe(
      'https://multimedia.nt.qq.com.cn/download?fileid=x',
    );
    expect(() => parseTargetUrl('/relative/only')).toThrow(/not a valid URL/);
  });
});
