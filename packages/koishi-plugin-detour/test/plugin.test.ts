/**
 * The plugin in a real Koishi `App`: messages come in through @koishijs/plugin-mock, a small
 * consumer plugin (`inject: ['detour']`) downloads every `<img>` through `ctx.detour`, and the
 * images live on the lab's real servers (TLS with the lab CA, a broken accelerator proxy, an origin
 * whose TLS always fails).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { DetourError } from '@detour/core';
import {
  type DowngradeOrigin,
  interceptLookup,
  LAB_PNG,
  type Lab,
  makePng,
  startAcceleratorProxy,
  startDowngradeOrigin,
  startLab,
  startTencentTwin,
  TENCENT_TWIN_NAMES,
} from '@detour/lab';
import type * as Mock from '@koishijs/plugin-mock';
import type * as Koishi from 'koishi';
import type { Context } from 'koishi';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FetchResult } from '../src/index.js';
import * as detour from '../src/index.js';

// Koishi apps load Koishi (and the mock adapter) through CommonJS; so does the plugin (src/koishi.ts).
const require = createRequire(import.meta.url);
const { App, h } = require('koishi') as typeof Koishi;
type App = Koishi.App;
const mock = (require('@koishijs/plugin-mock') as typeof Mock).default;

const PICTURE = makePng(40);
let lab: Lab;
let broken: DowngradeOrigin;
let dir: string;

beforeAll(async () => {
  [lab, broken] = await Promise.all([startLab(), startDowngradeOrigin('alert')]);
  dir = mkdtempSync(join(tmpdir(), 'koishi-detour-'));
});
afterAll(async () => {
  await Promise.all([lab?.close(), broken?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Downloaded {
  src: string;
  result?: FetchResult;
  error?: DetourError;
}

/** A bot plugin as users write them: it needs `detour`, downloads each image, replies with the strategy. */
function imageDownloader(seen: Downloaded[]) {
  return {
    name: 'image-downloader',
    inject: ['detour'],
    apply(ctx: Context) {
      ctx.middleware(async (session, next) => {
        const images = h.select(session.elements ?? [], 'img');
        if (!images.length) return next();
        const lines: string[] = [];
        for (const image of images) {
          const src = String(image.attrs.src);
          try {
            const result = await ctx.detour.fetch(src, { expect: 'image' });
            seen.push({ src, result });
            lines.push(`${result.strategy} degraded=${result.degraded} bytes=${result.bytes}`);
          } catch (error) {
            seen.push({ src, error: error as DetourError });
            lines.push(`failed ${(error as DetourError).failureClass}`);
          }
        }
        return lines.join('\n');
      });
    },
  };
}

const apps: Array<{ app: App; dispose?: () => void }> = [];
afterEach(async () => {
  // The mock bot first: disposed during app.stop() it looks for `ctx.bots` already gone (satori's
  // teardown order) and logs a TypeError that is no part of this test.
  for (const { dispose } of apps) dispose?.();
  await Promise.all(apps.splice(0).map(({ app }) => app.stop()));
});

let appsMade = 0;
/** A base directory of its own (Koishi's `baseDir` is the working directory otherwise: the repo). */
function freshBaseDir(): string {
  return join(dir, `instance-${++appsMade}`);
}

/** A started App with the mock adapter, the plugin under `config` and the downloader. */
async function startApp(config: Partial<detour.Config>, seen: Downloaded[] = [], baseDir = freshBaseDir()) {
  const app = new App();
  app.baseDir = baseDir;
  const mockFork = app.plugin(mock);
  apps.push({ app, dispose: () => mockFork.dispose() });
  const fork = app.plugin(detour, config);
  app.plugin(imageDownloader(seen));
  const client = app.mock.client('10001', '20002');
  await app.start();
  return { app, fork, client, seen };
}

describe('koishi-plugin-detour', () => {
  it('downloads an <img> through the pipeline: a broken accelerator is bypassed, the origin hit once', async () => {
    lab.https.routes.resetCounts();
    const { app, client, seen } = await startApp({
      proxy: lab.proxies.accelerator.url,
      allowPrivateNetwork: true,
      caFile: lab.caPath,
    });
    expect(app.detour).toBeInstanceOf(detour.DetourService);
    const src = `${lab.https.url}/image.png?from=koishi`;

    const replies = await client.receive(`look: <img src="${src}"/>`);

    expect(replies).toEqual([`direct-bypass degraded=false bytes=${LAB_PNG.length}`]);
    expect(seen).toHaveLength(1);
    const result = seen[0]!.result!;
    expect(result.body.equals(LAB_PNG)).toBe(true);
    expect(result.fromCache).toBe(false);
    expect(result.attempts.slice(0, 2).map((a) => [a.strategy, a.outcome, a.failureClass])).toEqual([
      ['direct', 'failed', 'tls-handshake'],
      ['direct-bypass', 'ok', undefined],
    ]);
    // The whole plan is in the trace (D83): the strategies after the winner are listed as skipped.
    expect(result.attempts.map((a) => a.strategy)).toEqual(result.plan);
    expect(result.attempts.slice(2).length).toBeGreaterThan(0);
    for (const rest of result.attempts.slice(2)) {
      expect(rest).toMatchObject({ outcome: 'skipped', message: 'not needed: direct-bypass succeeded' });
    }
    // The proxy route was really tried, then the lab origin served the file once, directly.
    expect(result.attempts[0]!.route).toContain(`:${lab.proxies.accelerator.port}`);
    expect(lab.https.routes.hits('/image.png')).toBe(1);

    // The same image again: route memory and cache are the plugin's, shared by every message.
    await client.receive(`<img src="${src}"/>`);
    expect(seen[1]!.result!.fromCache).toBe(true);
    expect(lab.https.routes.hits('/image.png')).toBe(1);
  });

  it('pinResolvedAddress: the CONNECT proxy gets the checked IP, never the name', async () => {
    const proxy = await startAcceleratorProxy({});
    try {
      const src = `${lab.https.url}/image.png?from=koishi-pinned`; // https://localhost:PORT
      const port = new URL(src).port;
      const pinned = await startApp({
        proxy: proxy.url,
        allowPrivateNetwork: true,
        caFile: lab.caPath,
        pinResolvedAddress: true,
      });
      const replies = await pinned.client.receive(`<img src="${src}"/>`);
      expect(replies).toEqual([`direct degraded=false bytes=${LAB_PNG.length}`]);
      const targets = Object.keys(proxy.stats().connects);
      expect(targets.length).toBeGreaterThan(0);
      expect(targets.every((t) => /^(127\.0\.0\.1|\[?::1\]?):/.test(t) && t.endsWith(`:${port}`))).toBe(true);
      expect(detour.Config({}).pinResolvedAddress).toBe(false);
      // Off (the default): the proxy is given the name.
      const named = await startApp({ proxy: proxy.url, allowPrivateNetwork: true, caFile: lab.caPath });
      await named.client.receive(`<img src="${src}&n=2"/>`);
      expect(proxy.stats().connects[`localhost:${port}`]).toBeGreaterThan(0);
    } finally {
      await proxy.close();
    }
  });

  it('answers with the placeholder, flagged degraded, when asked and the origin is broken', async () => {
    const { client, seen } = await startApp({ noProxy: true, allowPrivateNetwork: true, placeholder: true });

    const replies = await client.receive(`<img src="${broken.httpsUrl}/image.png"/>`);

    const result = seen[0]!.result!;
    expect(replies).toEqual([`placeholder degraded=true bytes=${result.bytes}`]);
    expect(result.strategy).toBe('placeholder');
    expect(result.degraded).toBe(true);
    expect(result.degradedReason).toBeTruthy();
    const failed = result.attempts.filter((a) => a.outcome === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]).toMatchObject({ strategy: 'direct', failureClass: 'tls-handshake' });
    expect(result.attempts.at(-1)).toMatchObject({ strategy: 'placeholder', outcome: 'ok' });
  });

  it('the result says insecure and downgraded, as the pipeline set them (issue 23 item 2)', async () => {
    const { client, seen } = await startApp({
      noProxy: true,
      allowPrivateNetwork: true,
      caFile: lab.caPath,
      allowDowngrade: ['localhost'],
      insecureHosts: ['localhost'],
    });
    await client.receive(
      `<img src="${broken.shared.httpsUrl}/image.png?k=down"/><img src="${lab.certOrigins.selfSigned.url}/image.png?k=unchecked"/>`,
    );
    const [down, unchecked] = seen.map((s) => s.result!);
    expect(down).toMatchObject({
      strategy: 'http-downgrade',
      downgraded: true,
      insecure: false,
      degraded: false,
    });
    expect(down!.body.equals(LAB_PNG)).toBe(true);
    expect(unchecked).toMatchObject({ insecure: true, downgraded: false, degraded: false });
  });

  it("a failure names the server's answer, not a placeholder that could not fit (issue 23 item 3)", async () => {
    const { app } = await startApp({
      noProxy: true,
      allowPrivateNetwork: true,
      caFile: lab.caPath,
      placeholder: true,
    });
    const error = await app.detour
      .fetch(`${lab.https.url}/status/503?k=telling`, { expect: 'image', expectedBytes: 12345 })
      .then(
        () => undefined,
        (e: unknown) => e as DetourError,
      );
    expect(error).toBeInstanceOf(DetourError);
    expect(error).toMatchObject({ failureClass: 'http-status', code: 'HTTP_503', strategy: 'direct' });
    expect(error!.message).toMatch(/HTTP 503/);
    expect(error!.attempts.at(-1)).toMatchObject({ strategy: 'placeholder', outcome: 'failed' });
  });

  it('without the placeholder, the failure reaches the bot as a typed DetourError', async () => {
    const { client, seen } = await startApp({
      noProxy: true,
      allowPrivateNetwork: true,
      strategies: ['direct'],
    });

    const replies = await client.receive(`<img src="${broken.httpsUrl}/image.png"/>`);

    expect(replies).toEqual(['failed tls-handshake']);
    expect(seen[0]!.error).toBeInstanceOf(DetourError);
    expect(seen[0]!.error!.attempts).toHaveLength(1);
  });

  it('keeps the SSRF guard on by default: a loopback image is refused without network', async () => {
    lab.http.routes.resetCounts();
    const { client, seen } = await startApp({ noProxy: true });

    const replies = await client.receive(`<img src="${lab.http.url}/image.png"/>`);

    expect(replies).toEqual(['failed blocked']);
    expect(seen[0]!.error!.failureClass).toBe('blocked');
    expect(lab.http.routes.hits('/image.png')).toBe(0);
  });

  it('QQ: an expired rkey is refreshed through the configured OneBot API', async () => {
    const restore = interceptLookup(Object.fromEntries(TENCENT_TWIN_NAMES.map((n) => [n, '127.0.0.1'])));
    const twin = await startTencentTwin({
      files: { picture: { bytes: PICTURE, appid: 1407, contentType: 'application/octet-stream' } },
      onebotToken: 'onebot-secret',
    });
    try {
      const { client, seen } = await startApp({
        noProxy: true,
        allowPrivateNetwork: true, // the twin's real names resolve to 127.0.0.1 here
        caFile: lab.caPath,
        onebotApi: twin.onebot.url,
        onebotToken: 'onebot-secret',
      });
      const url = twin.downloadUrl('picture');
      twin.rotateKeys(); // the key in the message expired before the bot fetched it

      const replies = await client.receive(`<img src="${h.escape(url, true)}"/>`);

      expect(replies).toEqual([`direct degraded=false bytes=${PICTURE.length}`]);
      expect(seen[0]!.result!.body.equals(PICTURE)).toBe(true);
      expect(twin.onebot.calls).toContain('nc_get_rkey');
      expect(twin.onebot.refused).toBe(0);
      expect(twin.hitsFor('picture').map((hit) => hit.status)).toEqual([400, 200]);
    } finally {
      await twin.close();
      restore();
    }
  });

  it('toFile and stream go through the same pipeline', async () => {
    const { app } = await startApp({ noProxy: true, allowPrivateNetwork: true, caFile: lab.caPath });
    const path = join(dir, 'saved.png');

    const file = await app.detour.toFile(`${lab.https.url}/image.png?to=file`, path, { expect: 'image' });
    expect(file).toMatchObject({ path, strategy: 'direct', degraded: false });
    expect(readFileSync(path).equals(LAB_PNG)).toBe(true);

    const streamed = await app.detour.stream(`${lab.https.url}/image.png?to=stream`);
    expect(streamed.strategy).toBe('direct');
    expect((await buffer(streamed.body)).equals(LAB_PNG)).toBe(true);
  });

  it('closes the pipeline when the plugin is disposed', async () => {
    const { app, fork } = await startApp({ noProxy: true, allowPrivateNetwork: true, caFile: lab.caPath });
    const service = app.detour;
    const pipeline = service.pipeline;
    await service.fetch(`${lab.https.url}/image.png?dispose=1`);

    fork.dispose();
    await expect.poll(() => app.detour).toBeUndefined();
    await expect.poll(() => pipeline.openSockets()).toBe(0);
    expect(() => service.pipeline).toThrow(/disposed/);
    await expect(service.fetch(`${lab.https.url}/image.png`)).rejects.toMatchObject({
      code: 'DETOUR_CLOSED',
    });
    // The pipeline itself is closed, not just forgotten.
    await expect(pipeline.fetch(`${lab.https.url}/image.png?after=close`)).rejects.toThrow();
  });

  it('remembers across restarts in its data directory (data/detour under the base directory)', async () => {
    const baseDir = freshBaseDir();
    const config = { proxy: lab.proxies.accelerator.url, allowPrivateNetwork: true, caFile: lab.caPath };
    const src = `${lab.https.url}/image.png?from=koishi-restart`;
    const first = await startApp(config, [], baseDir);
    await first.client.receive(`<img src="${src}"/>`);
    const ran = (attempts: readonly { outcome: string }[]) => attempts.filter((a) => a.outcome !== 'skipped');
    expect(ran(first.seen[0]!.result!.attempts).map((a) => a.outcome)).toEqual(['failed', 'ok']);
    apps.find(({ app }) => app === first.app)?.dispose?.(); // the mock bot first (see afterEach)
    await first.app.stop();
    const file = join(baseDir, 'data', 'detour', 'state.json');
    await expect.poll(() => existsSync(file)).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8')).format).toBe('detour-state');
    // A restarted bot (new App, same directory): the rescue is remembered, no failed attempt.
    const second = await startApp(config, [], baseDir);
    await second.client.receive(`<img src="${src}&again=1"/>`);
    const again = second.seen[0]!.result!;
    expect(ran(again.attempts)).toEqual([
      expect.objectContaining({ strategy: 'direct-bypass', outcome: 'ok' }),
    ]);
    // The remembered winner went first; the plan's strict first choice is listed, not needed.
    expect(again.plan[0]).toBe('direct-bypass');
    expect(again.attempts.find((a) => a.strategy === 'direct')).toMatchObject({
      outcome: 'skipped',
      message: 'not needed: direct-bypass succeeded',
    });
  });

  it('does not provide the service when the configuration contradicts itself', async () => {
    const app = new App();
    app.baseDir = freshBaseDir();
    apps.push({ app });
    const errors: unknown[] = [];
    app.on('internal/error', (error) => void errors.push(error));
    app.plugin(detour, { proxy: 'http://127.0.0.1:9', noProxy: true });
    await app.start();
    await expect.poll(() => errors.length).toBeGreaterThan(0);
    expect(app.detour).toBeUndefined();
    // The front-end kit's message (D86): the CLI flag and the config field.
    expect(String(errors[0])).toMatch(/--proxy and --no-proxy \/ noProxy exclude each other/);
  });
});

describe('Config schema', () => {
  it('fills the defaults of `detour fetch`', () => {
    expect(detour.Config({})).toMatchObject({
      noProxy: false,
      allowPrivateNetwork: false,
      timeoutMs: 60_000,
      maxBytes: 50 * 1024 * 1024,
      strategies: [],
      placeholder: false,
      insecureHosts: [],
      allowDowngrade: [],
      headersProfile: 'detour',
      cache: true,
      presets: ['qq'],
      logLevel: 'warn',
    });
  });

  it('rejects wrong types and unknown profiles', () => {
    expect(() => detour.Config({ timeoutMs: 'soon' } as never)).toThrow();
    expect(() => detour.Config({ headersProfile: 'netscape' } as never)).toThrow();
    expect(() => detour.Config({ insecureHosts: 'a.example' } as never)).toThrow();
  });

  it("is built from the front-end kit's definitions, and the kit checks what the form cannot", () => {
    // The kit's lists: fatal is a level here too; a day is the longest deadline everywhere.
    expect(detour.Config({ logLevel: 'fatal' }).logLevel).toBe('fatal');
    expect(() => detour.Config({ timeoutMs: 86_400_001 })).toThrow();
    expect(detour.Config({}).timeoutMs).toBe(60_000);
    let refused: unknown;
    try {
      detour.detourOptions(detour.Config({ insecureHosts: ['https://a.example/'] }), undefined);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(detour.FrontEndUsageError);
    expect((refused as InstanceType<typeof detour.FrontEndUsageError>).option).toBe('insecureHosts');
    expect((refused as Error).message).toBe(
      '--insecure-host / insecureHosts takes host names (*.example.com wildcards), got "https://a.example/"',
    );
  });

  it('maps onto createDetour options', () => {
    const options = detour.detourOptions(
      detour.Config({ noProxy: true, cacheDir: '/tmp/x', insecureHosts: ['a.example'] }),
      undefined,
    );
    expect(options).toMatchObject({ proxy: false, insecureHosts: ['a.example'], cache: { dir: '/tmp/x' } });
    expect(detour.detourOptions(detour.Config({ cache: false }), undefined).cache).toBe(false);
    expect(() =>
      detour.detourOptions(detour.Config({ cache: false, cacheDir: '/tmp/x' }), undefined),
    ).toThrow(/cacheDir needs cache/);
    expect(() =>
      detour.detourOptions(detour.Config({ caFile: join(dir, 'missing.pem') }), undefined),
    ).toThrow(/caFile/);
  });

  it('passes presets and their tokens through to createDetour, which builds them', async () => {
    const { resolvePresets } = await import('detour');
    const token = '5551234:AAsecretsecretsecretsecret';
    const options = detour.detourOptions(
      detour.Config({ presets: ['qq', 'discord'], discordToken: 'MTAdiscord.Gx.tok', telegramToken: token }),
      undefined,
    );
    expect(options).toMatchObject({
      presets: ['qq', 'discord'],
      discordToken: 'MTAdiscord.Gx.tok',
      telegramToken: token,
    });
    expect(resolvePresets(options.presets, options).map((p) => p.name)).toEqual([
      'qq',
      'discord',
      'telegram',
    ]);
    expect(() => resolvePresets(['discord'], {})).toThrow(/discord preset needs its bot token/);
    expect(() => detour.Config({ presets: ['myspace'] } as never)).toThrow();
  });
});

describe('log bridge', () => {
  it('hands pino lines to the Koishi logger at the matching level, fields as JSON', () => {
    const calls: Array<[string, unknown[]]> = [];
    const target = {
      debug: (...a: unknown[]) => void calls.push(['debug', a]),
      info: (...a: unknown[]) => void calls.push(['info', a]),
      warn: (...a: unknown[]) => void calls.push(['warn', a]),
      error: (...a: unknown[]) => void calls.push(['error', a]),
    };
    detour.forwardLine(
      target,
      '{"level":40,"time":1,"pid":2,"hostname":"h","name":"detour","strategy":"direct","msg":"attempt failed"}\n',
    );
    detour.forwardLine(target, '{"level":20,"msg":"cached"}');
    detour.forwardLine(target, '{"level":60,"msg":"boom"}');
    detour.forwardLine(target, 'not json\n');
    expect(calls).toEqual([
      ['warn', ['%s %s', 'attempt failed', '{"strategy":"direct"}']],
      ['debug', ['%s', 'cached']],
      ['error', ['%s', 'boom']],
      ['info', ['%s', 'not json']],
    ]);
  });
});
