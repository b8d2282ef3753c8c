/**
 * Runs examples/qq-bot.ts (the README's "QQ bots" example) against the lab's Tencent twin: real
 * HTTPS on 127.0.0.1 reached as multimedia.nt.qq.com.cn (resolution intercepted in this process,
 * every other Tencent name refused), with a OneBot API that hands out fresh rkeys.
 *
 *   npx tsx examples/qq-bot-lab.ts
 */
import { randomBytes } from 'node:crypto';
import { interceptLookup, labCerts, makePng, startTencentTwin, TENCENT_TWIN_NAMES } from '@detour/lab';
import { qqDownloader } from './qq-bot.js';

const restore = interceptLookup(Object.fromEntries(TENCENT_TWIN_NAMES.map((n) => [n, '127.0.0.1'])));
/** The strategies that ran, in order: the rest of the plan, listed as skipped after a winner, is left out. */
const ran = (attempts: ReadonlyArray<{ strategy: string; outcome: string }>) =>
  attempts
    .filter((a) => a.outcome !== 'skipped')
    .map((a) => a.strategy)
    .join(' → ');
const picture = makePng(32);
const voice = Buffer.concat([Buffer.from([0x02]), Buffer.from('#!SILK_V3'), randomBytes(1_000)]);
const twin = await startTencentTwin({
  files: { picture: { bytes: picture }, voice: { bytes: voice, appid: 1402, contentType: 'audio/amr' } },
});
const bot = await qqDownloader(
  { endpoint: twin.onebot.url },
  // The twin is on loopback and signed by the lab CA: direct is enough here. curl, planned after it,
  // is listed in the attempts as skipped ("not needed: direct succeeded"), not printed as a step.
  { allowPrivateNetwork: true, ca: labCerts().ca.cert, strategies: ['direct', 'curl'] },
);
try {
  const expired = twin.downloadUrl('picture', { amp: true }); // CQ-code `&amp;` left in, too
  twin.rotateKeys(); // ...and the rkey expires before the bot gets to it
  const image = await bot.download({ url: expired, file_size: picture.length });
  console.log(
    'image:',
    image.ok ? `${image.format}, ${image.body.length} bytes via ${ran(image.attempts)}` : image.why,
  );
  const record = await bot.download({ url: twin.downloadUrl('voice'), file_size: voice.length }, 'audio');
  console.log('voice:', record.ok ? `${record.format}, ${record.body.length} bytes` : record.why);
  const old = twin.downloadUrl('picture', { uploadTime: Date.now() - 40 * 24 * 3600 * 1000 });
  const gone = await bot.download({ url: old });
  console.log('old picture:', gone.ok ? 'downloaded?!' : gone.why);
  console.log(`origin requests: ${twin.hits.length}, OneBot calls: ${twin.onebot.calls.join(', ')}`);
} finally {
  await bot.close();
  await twin.close();
  restore();
}
