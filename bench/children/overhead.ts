/** Figure 1's client process (tsx, NODE_EXTRA_CA_CERTS = the lab CA): see figures/1-overhead.ts. */
import { measureOverhead, type OverheadInput } from '../figures/1-overhead.js';
import { serveParent } from '../lib/serve-parent.js';

serveParent((input: OverheadInput) =>
  measureOverhead(input, (message) => process.stderr.write(`[figure 1] ${message}\n`)),
);
