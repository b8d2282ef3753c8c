/**
 * A basic fetch with the strategy packages plugged in, against HTTPS servers started here on
 * 127.0.0.1 with the lab's test CA: a modern one, and a legacy one that Node's default TLS refuses
 * (the `SSLV3_ALERT_HANDSHAKE_FAILURE` of the seed bug), which `tls-relaxed` rescues — with the
 * certificate still checked.
 *
 *   npx tsx examples/basic.ts
 */
import { createPipeline } from '@detour/core';
import { CurlStrategy } from '@detour/curl';
import { labCerts, startHttpsOrigin, startLegacyHttpsOrigin } from '@detour/lab';
import { PlaceholderStrategy } from '@detour/placeholder';
import { TlsRelaxedStrategy } from '@detour/tls-relaxed';

const [modern, legacy] = await Promise.all([startHttpsOrigin(), startLegacyHttpsOrigin('sha1-signatures')]);

const pipeline = createPipeline({
  allowPrivateNetwork: true, // the servers are on 127.0.0.1
  ca: labCerts().ca.cert, // trust the lab CA on top of the system's
  use: [new TlsRelaxedStrategy(), new CurlStrategy(), new PlaceholderStrategy()],
});
try {
  for (const url of [`${modern.url}/image.png`, `${legacy.url}/image.png`, `${modern.url}/status/404`]) {
    try {
      const result = await pipeline.fetch(url, { expect: 'image' });
      console.log(
        `${url}\n  ok: ${result.bytes} bytes, ${result.contentType}, sha256 ${result.sha256.slice(0, 12)}…`,
      );
      console.log(
        `  won by "${result.strategy}" (degraded: ${result.degraded}, insecure: ${result.insecure})`,
      );
      for (const a of result.attempts) {
        console.log(
          `    ${a.strategy.padEnd(14)} ${a.outcome.padEnd(8)} ${a.failureClass ?? ''} ${a.code ?? a.message ?? ''}`,
        );
      }
    } catch (error) {
      const e = error as { failureClass: string; code: string; message: string };
      console.log(`${url}\n  failed: ${e.failureClass} ${e.code} (${e.message})`);
    }
  }
} finally {
  await pipeline.close();
  await Promise.all([modern.close(), legacy.close()]);
}
