export type { PipelineFlags } from './build-pipeline.js';
export { buildPipeline, detourOptions } from './build-pipeline.js';
export {
  type DoctorRun,
  type DoctorSettings,
  doctorReport,
} from './commands/doctor.js';
export type { CliIo } from './io.js';
export { main, USAGE } from './main.js';
