/**
 * Figure 2: a legacy-TLS origin. Strict `direct` fails the handshake, `tls-relaxed` rescues it;
 * route memory should make the next requests start at `tls-relaxed` with no failed attempt.
 */
import { labPipeline, labTrust, strategyPlugin } from '../lib/detour.js';
import { startLabProcess } from '../lib/lab-process.js';
import { measureRescue } from '../lib/rescue.js';
import type { Figure } from '../lib/types.js';

export const figure: Figure = {
  id: 2,
  key: 'legacy-tls-rescue',
  title: 'Rescue time vs a legacy-TLS origin',
  async run(ctx) {
    const relaxed = await strategyPlugin('tls-relaxed');
    const lab = await startLabProcess({
      good: { kind: 'https' },
      sha1: { kind: 'legacy', profile: 'sha1-signatures' },
      tls10: { kind: 'legacy', profile: 'tls1.0' },
    });
    ctx.defer(() => lab.close());
    const { good, sha1, tls10 } = lab.servers as Record<string, { ipUrl: string }>;
    const trust = labTrust(lab.caPem, lab.caPath);
    const options = { ...trust.options, use: [relaxed], strategies: ['direct', 'tls-relaxed'] };
    const hostile = () => labPipeline(lab.caPem, options);
    return measureRescue(ctx, {
      cases: [
        {
          label: 'TLS 1.2, SHA-1 signatures only (the seed bug)',
          hostile,
          hostileUrl: `${sha1!.ipUrl}/image.png`,
        },
        { label: 'TLS 1.0 only', hostile, hostileUrl: `${tls10!.ipUrl}/image.png` },
      ],
      good: () => labPipeline(lab.caPem, options),
      goodUrl: `${good!.ipUrl}/image.png`,
      baselineLabel: 'a modern TLS origin (direct wins at once)',
      trustLabel: trust.label,
    });
  },
};
