import type { CliIo } from '../io.js';
// Placeholder until @detour/detect lands (issue 3); replaced by the real command.
export async function runDetect(_argv: string[], io: CliIo): Promise<number> {
  io.stderr.write('detour detect: not available in this build\n');
  return 1;
}
