export { main, USAGE } from './main.js';
export type { CliIo } from './io.js';
export { buildPipeline } from './build-pipeline.js';
export type { PipelineFlags } from './build-pipeline.js';
