/**
 * Issue 22 item 2: a forged `fileid` cannot poison the cache. Against the Tencent twin (real HTTPS
 * servers on loopback reached through the real names, resolution intercepted in this process):
 * a `gchat.qpic.cn` link naming the attacker's picture, padded to the victim's size and carrying
 * the victim's `&fileid=`, must not fill the entry the victim's `/download?fileid=` is served from.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createPipeline, type Pipeline } from '@detour/core';
import {
  interceptLookup,
  labCerts,
  startTencentTwin,
  TENCENT_TWIN_NAMES,
  type TencentTwin,
} from '@detour/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qqPreset } from '../src/index.js';

const jpeg = (size: number) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(size - 4)]);
const VICTIM = jpeg(3_000);
const ATTACKER = jpeg(3_000); // the attacker's own picture, padded to the victim's size

let twin: TencentTwin;
let restoreLookup: () => void;

const pipeline = (): Pipeline =>
  createPipeline({
    allowPrivateNetwork: true, // the real names resolve to 127.0.0.1 here
    ca: labCerts().ca.cert,
    presets: [qqPreset()],
    strategies: ['direct'],
  });

beforeAll(async () => {
  restoreLookup = interceptLookup(Object.fromEntries(TENCENT_TWIN_NAMES.map((n) => [n, '127.0.0.1'])));
  twin = await startTencentTwin({
    files: { victim: { bytes: VICTIM, appid: 1407 }, attacker: { bytes: ATTACKER, appid: 1407 } },
  });
});
afterAll(async () => {
  await twin?.close();
  restoreLookup?.();
});

describe('fileid forgery (issue 22 item 2)', () => {
  it("the twin's fileid field 2 is the file's SHA-1 (what the check relies on)", () => {
    const victimId = new URL(twin.downloadUrl('victim')).searchParams.get('fileid')!;
    const preset = qqPreset();
    const key = preset.cacheKey!(new URL(`https://multimedia.nt.qq.com.cn/download?fileid=${victimId}`));
    expect(key).toBe(`qq:file:${createHash('sha1').update(VICTIM).digest('hex')}:3000`);
  });

  it("a forged link fills nothing: the victim's download gets the victim's bytes", async () => {
    const bot = pipeline();
    const victimId = new URL(twin.downloadUrl('victim')).searchParams.get('fileid')!;
    const md5 = createHash('md5').update(ATTACKER).digest('hex').toUpperCase();
    const forged = `${twin.origin('gchat.qpic.cn')}/gchatpic_new/0/0-0-${md5}/0?fileid=${victimId}`;
    const planted = await bot.fetch(forged);
    expect(planted.body.equals(ATTACKER)).toBe(true); // the attacker got their own picture back…
    expect(planted.fromCache).toBe(false);
    const victim = await bot.fetch(twin.downloadUrl('victim'));
    expect(victim.fromCache).toBe(false); // …but it was not stored under the victim's fileid
    expect(victim.body.equals(VICTIM)).toBe(true);
    await bot.close();
  });

  it('a genuine download is stored under its fileid and shared by the next message of the same picture', async () => {
    const bot = pipeline();
    const first = await bot.fetch(twin.downloadUrl('victim'));
    expect(first.fromCache).toBe(false);
    // Another message of the same picture: a new fileid (upload time), the same digest and size.
    const again = await bot.fetch(twin.downloadUrl('victim', { uploadTime: Date.now() - 60_000 }));
    expect(again.fromCache).toBe(true);
    expect(again.body.equals(VICTIM)).toBe(true);
    await bot.close();
  });

  it('an http:// link never derives the fileid key (it keys by its own URL)', () => {
    const victimId = new URL(twin.downloadUrl('victim')).searchParams.get('fileid')!;
    const preset = qqPreset();
    expect(
      preset.cacheKey!(new URL(`http://multimedia.nt.qq.com.cn/download?fileid=${victimId}`)),
    ).toBeUndefined();
  });
});
