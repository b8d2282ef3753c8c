/**
 * Figure 3: a broken accelerator (a CONNECT proxy that answers the TLS handshake with an alert, or
 * resets it) in front of a good origin. `direct` through the proxy fails, `direct-bypass` (the
 * same strict request around the proxy) rescues; route memory should start the next ones there.
 * curl follows the same route as `direct` (through the proxy), so it is no rescue here.
 * The last case is a stuck proxy (accepts TCP, never answers): `direct` waits for the proxy
 * deadline (`timeouts.proxy`, default 3 s), then `direct-bypass` rescues; target ≤ 4 s.
 */
import { labPipeline, labTrust } from '../lib/detour.js';
import { startLabProcess } from '../lib/lab-process.js';
import { measureRescue } from '../lib/rescue.js';
import type { Figure } from '../lib/types.js';

export const figure: Figure = {
  id: 3,
  key: 'accelerator-rescue',
  title: 'Rescue time behind a broken accelerator',
  async run(ctx) {
    const lab = await startLabProcess({
      good: { kind: 'https' },
      alert: { kind: 'accelerator', mode: 'alert', breaks: 'good' },
      reset: { kind: 'accelerator', mode: 'reset', breaks: 'good' },
      stuck: { kind: 'black-hole' },
    });
    ctx.defer(() => lab.close());
    const { good, alert, reset, stuck } = lab.servers as Record<string, { ipUrl: string; url: string }>;
    const url = `${good!.ipUrl}/image.png`;
    const trust = labTrust(lab.caPem, lab.caPath);
    const behind = (proxy: string) => () =>
      labPipeline(lab.caPem, { ...trust.options, proxy, strategies: ['direct', 'direct-bypass'] });
    return measureRescue(ctx, {
      cases: [
        {
          label: 'accelerator answers TLS with handshake_failure',
          hostile: behind(alert!.url),
          hostileUrl: url,
        },
        { label: 'accelerator resets the tunnel', hostile: behind(reset!.url), hostileUrl: url },
        {
          label: 'stuck proxy (accepts, never answers), default timeouts',
          hostile: behind(stuck!.url),
          hostileUrl: url,
          firstMaxMs: 4_000,
          maxRuns: 5,
        },
      ],
      good: () => labPipeline(lab.caPem, { ...trust.options, strategies: ['direct', 'direct-bypass'] }),
      goodUrl: url,
      baselineLabel: 'the same origin without the proxy (direct wins at once)',
      trustLabel: trust.label,
    });
  },
};
