/**
 * Gated suites (root, network namespaces, private mount namespaces, gsettings) skip themselves when
 * the machine cannot run them, with " — skipped: <why>" in their name. This reporter lists every such
 * skip at the end of the run, so a skip is never silent. In CI (CI=true), running as root where
 * `ip netns add` works, a gated skip fails the run: there the suites can run, so a skip means a
 * setup step broke.
 */
import { execFileSync } from 'node:child_process';
import type { Reporter, RunnerTask, RunnerTestFile } from 'vitest/node';

export const GATE_MARK = ' — skipped: ';

interface Skipped {
  file: string;
  name: string;
}

function collect(task: RunnerTask, file: string, out: Skipped[]): void {
  if (task.mode === 'skip' && task.name.includes(GATE_MARK)) {
    out.push({ file, name: task.name });
    return; // a skipped suite is listed once, not once per test
  }
  if (task.type === 'suite') for (const child of task.tasks) collect(child, file, out);
}

/** Whether this machine can run the gated suites: root, and network namespaces can be made. */
export function gatesOpen(): boolean {
  if (process.getuid?.() !== 0) return false;
  const ns = `detour-gate-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', ns], { stdio: 'pipe', timeout: 5_000 });
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'pipe', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

export default class GatedReporter implements Reporter {
  onFinished(files: RunnerTestFile[] = []): void {
    const skipped: Skipped[] = [];
    for (const file of files) collect(file, file.name, skipped);
    if (skipped.length === 0) {
      console.log('\nGated suites: none skipped.');
      return;
    }
    console.log(`\nGated suites skipped (${skipped.length}):`);
    for (const s of skipped) console.log(`  ${s.file}: ${s.name}`);
    if (process.env.CI && gatesOpen()) {
      console.log('CI runs as root with network namespaces: a gated suite must not skip here.');
      process.exitCode = 1;
    }
  }
}
