// Start the Detour lab (real origins on 127.0.0.1) for the Python tests and print what they need
// as one JSON line; close everything when stdin closes (pytest ends or dies).
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const labModule = fileURLToPath(new URL('../../../packages/lab/dist/index.js', import.meta.url));
const { LAB_PNG, startLab } = await import(labModule);
const lab = await startLab();
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
  })}\n`,
);
const stop = async () => {
  await lab.close();
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
