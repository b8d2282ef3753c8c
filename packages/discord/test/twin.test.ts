/**
 * The Discord preset against the Discord twin (packages/lab/src/discord.ts): real HTTPS on loopback
 * reached through the real names (cdn.discordapp.com, media.discordapp.net, discord.com) with a lab
 * certificate; name resolution is intercepted in this process and other Discord names fail closed.
 */
import { randomBytes } from 'node:crypto';
import { createPipeline, DetourError, type Pipeline, type PipelineOptions } from '@detour/core';
import { testPreset } from '@detour/core/testing';
import {
  DISCORD_TWIN_NAMES,
  type DiscordTwin,
  interceptLookup,
  labCerts,
  makePng,
  startDiscordTwin,
} from '@detour/lab';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { discordCacheKey, discordExpiry, discordPreset } from '../src/index.js';

const PICTURE = makePng(48);
const OTHER = Buffer.concat([makePng(8), randomBytes(64)]);
let twin: DiscordTwin;
let restoreLookup: () => void;
const pipelines: Pipeline[] = [];

function pipeline(
  options: PipelineOptions = {},
  preset = discordPreset({ token: twin.token, apiBase: twin.apiBase, ca: labCerts().ca.cert }),
) {
  const p = createPipeline({
    allowPrivateNetwork: true, // the real names resolve to 127.0.0.1 here
    ca: labCerts().ca.cert,
    presets: [preset],
    strategies: ['direct'],
    ...options,
  });
  pipelines.push(p);
  return p;
}

beforeAll(async () => {
  restoreLookup = interceptLookup(Object.fromEntries(DISCORD_TWIN_NAMES.map((n) => [n, '127.0.0.1'])));
  twin = await startDiscordTwin({
    files: { picture: { bytes: PICTURE }, other: { bytes: OTHER }, gone: { bytes: OTHER } },
  });
});
beforeEach(() => {
  twin.hits.length = 0;
  twin.refreshCalls.length = 0;
});
afterAll(async () => {
  await Promise.all(pipelines.map((p) => p.close()));
  await twin?.close();
  restoreLookup?.();
});

describe('discord preset on the twin', () => {
  it('an expired link is refreshed without any request to the dead URL; the file in one request', async () => {
    const dead = twin.attachmentUrl('picture', { expiresIn: -60 });
    const result = await pipeline({ cache: false }).fetch(dead, { expect: 'image' });
    expect(result.body.equals(PICTURE)).toBe(true);
    expect(twin.hits).toHaveLength(1);
    expect(twin.hits[0]!.status).toBe(200);
    expect(twin.hits[0]!.query.ex).not.toBe(new URL(dead).searchParams.get('ex'));
    expect(twin.refreshCalls).toHaveLength(1);
    expect(result.attempts.map((a) => [a.strategy, a.outcome])).toEqual([
      ['discord', 'failed'],
      ['refresh', 'ok'],
      ['direct', 'ok'],
    ]);
  });

  it('a link the CDN no longer serves, even refreshed, ends url-expired after at most two requests', async () => {
    twin.deleteAttachment('gone');
    const url = twin.attachmentUrl('gone');
    const error = await pipeline({ cache: false })
      .fetch(url)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DetourError);
    expect(error).toMatchObject({ failureClass: 'url-expired', code: 'DETOUR_URL_EXPIRED' });
    expect(twin.hits.length).toBeLessThanOrEqual(2);
    expect(twin.hits.every((h) => h.status === 404)).toBe(true);
    expect(twin.refreshCalls).toHaveLength(1);
  });

  it('two live links to one attachment make one request (the cache key ignores ex/is/hm)', async () => {
    const a = twin.attachmentUrl('other', { issued: 10 });
    const b = twin.attachmentUrl('other', { issued: 20, expiresIn: 7200 });
    expect(a).not.toBe(b);
    const p = pipeline();
    const [first, second] = await Promise.all([p.fetch(a), p.fetch(b)]);
    const third = await p.fetch(b);
    expect(first.body.equals(OTHER) && second.body.equals(OTHER) && third.body.equals(OTHER)).toBe(true);
    expect(third.fromCache).toBe(true);
    expect(twin.hits).toHaveLength(1);
  });

  it('concurrent refreshes share one API call', async () => {
    const p = pipeline({ cache: false });
    const links = [
      twin.attachmentUrl('picture', { expiresIn: -5 }),
      twin.attachmentUrl('other', { expiresIn: -5 }),
    ];
    const results = await Promise.all(links.map((u) => p.fetch(u)));
    expect(results.map((r) => r.bytes)).toEqual([PICTURE.length, OTHER.length]);
    expect(twin.refreshCalls).toHaveLength(1);
    expect(twin.refreshCalls[0]!.urls).toHaveLength(2);
  });

  it('a 429 on refresh is respected: the next call waits out retry_after', async () => {
    twin.rateLimitNext(0.4);
    const result = await pipeline({ cache: false }).fetch(twin.attachmentUrl('picture', { expiresIn: -5 }));
    expect(result.bytes).toBe(PICTURE.length);
    expect(twin.refreshCalls.map((c) => c.status)).toEqual([429, 200]);
    expect(twin.refreshCalls[1]!.at - twin.refreshCalls[0]!.at).toBeGreaterThanOrEqual(390);
  });

  it('a wrong token: the refresh fails, url-expired, and the token is in no output', async () => {
    const token = 'MTAwrongwrongwrongwrong.Gx0000.secretpart';
    const p = pipeline(
      { cache: false },
      discordPreset({ token, apiBase: twin.apiBase, ca: labCerts().ca.cert }),
    );
    const error = (await p
      .fetch(twin.attachmentUrl('picture', { expiresIn: -5 }))
      .catch((e: unknown) => e)) as DetourError;
    expect(error).toMatchObject({ failureClass: 'url-expired' });
    expect(JSON.stringify({ message: error.message, attempts: error.attempts })).not.toContain(token);
    expect(twin.refreshCalls.map((c) => c.status)).toEqual([401]);
    expect(twin.hits).toHaveLength(0);
  });
});

describe('discord preset, pure parts', () => {
  it('reads ex locally and keys without the signature', () => {
    const url = new URL('https://cdn.discordapp.com/attachments/1/2/a.png?ex=6552b0f0&is=65403bf0&hm=abc&');
    expect(discordExpiry(url)).toBe(0x6552b0f0 * 1000);
    expect(discordCacheKey(url)).toBe('discord:cdn.discordapp.com/attachments/1/2/a.png');
    const media = new URL(
      'https://media.discordapp.net/attachments/1/2/a.png?hm=x&width=100&ex=1&format=webp',
    );
    expect(discordCacheKey(media)).toBe(
      'discord:media.discordapp.net/attachments/1/2/a.png?format=webp&width=100',
    );
  });

  testPreset({
    preset: () => discordPreset({ token: 'MTAtoken.Gx.part' }),
    handles: [
      'https://cdn.discordapp.com/attachments/1/2/a.png?ex=1&is=1&hm=1',
      'https://media.discordapp.net/attachments/3/4/b.jpg',
    ],
    ignores: [
      'https://discord.com/api/v10/users/@me',
      'https://cdn.discordapp.com/avatars/1/abc.png',
      'https://example.test/attachments/1/2/a.png',
    ],
    sameCacheKey: [
      [
        'https://cdn.discordapp.com/attachments/1/2/a.png?ex=1&is=2&hm=3',
        'https://cdn.discordapp.com/attachments/1/2/a.png?ex=4&is=5&hm=6',
      ],
    ],
    secrets: [
      [
        'https://cdn.discordapp.com/attachments/1/2/a.png?ex=1&is=2&hm=deadbeefsignature',
        'deadbeefsignature',
      ],
    ],
  });
});
