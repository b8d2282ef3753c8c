import { createLogger, createPipeline, type Pipeline, type PipelineOptions } from '@detour/core';

/** Everything the CLI's flags can say about how to build a pipeline. */
export interface PipelineFlags {
  proxy?: string | undefined;
  noProxy?: boolean | undefined;
  allowPrivate?: boolean | undefined;
  strategies?: string[] | undefined;
  timeoutMs?: number | undefined;
  maxBytes?: number | undefined;
  logLevel?: string | undefined;
}

/** Compose core with the strategy packages and the detected environment, as the CLI ships them. */
export function buildPipeline(flags: PipelineFlags, _env: Record<string, string | undefined>): Pipeline {
  const options: PipelineOptions = {
    allowPrivateNetwork: !!flags.allowPrivate,
    logger: createLogger(flags.logLevel ?? 'warn'),
    ...(flags.proxy ? { proxy: flags.proxy } : flags.noProxy ? { proxy: false } : {}),
    ...(flags.strategies?.length ? { strategies: flags.strategies } : {}),
    ...(flags.timeoutMs ? { timeoutMs: flags.timeoutMs } : {}),
    ...(flags.maxBytes ? { maxBytes: flags.maxBytes } : {}),
  };
  return createPipeline(options);
}
