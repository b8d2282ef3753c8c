/**
 * The fixture the library's convert tests share: the Tencent twin serving voice clips as
 * `audio/amr` (as Tencent does) under its real names, resolved to 127.0.0.1 in this process, a
 * scratch directory, and pipelines trusting the lab CA that `close()` shuts with the rest.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPipeline, type Pipeline, type PipelineOptions } from '@detour/core/internal';
import {
  interceptLookup,
  labCerts,
  startTencentTwin,
  TENCENT_TWIN_NAMES,
  type TencentTwin,
} from '@detour/lab';

export interface VoiceTwin {
  twin: TencentTwin;
  dir: string;
  /** A direct-only pipeline to the twin (private network allowed, lab CA), closed by `close()`. */
  pipeline(options?: PipelineOptions): Pipeline;
  close(): Promise<void>;
}

/** Start the twin with `clips` (name → bytes), each served as `audio/amr`. */
export async function startVoiceTwin(dirPrefix: string, clips: Record<string, Buffer>): Promise<VoiceTwin> {
  const restoreLookup = interceptLookup(Object.fromEntries(TENCENT_TWIN_NAMES.map((n) => [n, '127.0.0.1'])));
  const files = Object.fromEntries(
    Object.entries(clips).map(([name, bytes]) => [name, { bytes, appid: 1402, contentType: 'audio/amr' }]),
  );
  const twin = await startTencentTwin({ files });
  const dir = mkdtempSync(join(tmpdir(), dirPrefix));
  const pipelines: Pipeline[] = [];
  return {
    twin,
    dir,
    pipeline(options = {}) {
      const p = createPipeline({
        allowPrivateNetwork: true,
        ca: labCerts().ca.cert,
        strategies: ['direct'],
        ...options,
      });
      pipelines.push(p);
      return p;
    },
    async close() {
      await Promise.all(pipelines.map((p) => p.close()));
      await twin.close();
      restoreLookup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
