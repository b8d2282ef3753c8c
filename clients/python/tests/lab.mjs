// Start the Detour lab (real origins on 127.0.0.1) for the Python tests and print what they need
// as one JSON line; close everything when stdin closes (pytest ends or dies).
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const labModule = fileURLToPath(new URL('../../../packages/lab/dist/index.js', import.meta.url));
const {
  LAB_PNG,
  startLab,
  startTencentTwin,
  TENCENT_TWIN_NAMES,
  hostsNamespace,
  hostsNamespaceSupport,
  makeSilkClip,
} = await import(labModule);
const lab = await startLab();

// The Tencent twin with a real SILK voice clip (a 3 s tone, encoded here), served as audio/amr, and
// the command that runs `detour serve` in a mount namespace where Tencent's names are 127.0.0.1.
const VOICE_MS = 3000;
const voice = await makeSilkClip(VOICE_MS);
const corrupt = Buffer.from(voice);
corrupt.writeUInt16LE(0x7000, 10); // the first packet claims more than SILK allows
const twin = await startTencentTwin({
  files: {
    voice: { bytes: voice, appid: 1402, contentType: 'audio/amr' },
    corrupt: { bytes: corrupt, appid: 1402, contentType: 'audio/amr' },
  },
});
const support = hostsNamespaceSupport();
const ns =
  support === true
    ? hostsNamespace(Object.fromEntries(TENCENT_TWIN_NAMES.map((n) => [n, '127.0.0.1'])))
    : undefined;
const twinServe = ns?.prefix;
process.stdout.write(
  `${JSON.stringify({
    http: lab.http.url,
    https: lab.https.url,
    sha1: lab.legacy.sha1Signatures.url,
    downgradeHttps: lab.downgrade.shared.httpsUrl,
    selfSigned: lab.certOrigins.selfSigned.url,
    caPath: lab.caPath,
    png: LAB_PNG.toString('base64'),
    pngSha256: createHash('sha256').update(LAB_PNG).digest('hex'),
    voiceUrl: twin.downloadUrl('voice'),
    corruptVoiceUrl: twin.downloadUrl('corrupt'),
    voiceMs: VOICE_MS,
    voiceSha256: createHash('sha256').update(voice).digest('hex'),
    // the argv prefix to run the CLI under (null: no namespace here, for the reason given)
    twinServe: twinServe ?? null,
    twinServeSkip: support === true ? null : support,
  })}\n`,
);
const stop = async () => {
  await twin.close();
  ns?.close();
  await lab.close();
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
