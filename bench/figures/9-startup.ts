/**
 * Figure 9 (issue 25 item 4): what starting the `detour` command costs, as a bot that shells out
 * per image pays it. Each row times whole processes, the command and its baseline taking turns
 * (the order flips every run), and reports the median of the per-run ratios:
 * - `detour --version` against `node -e 0` (target ≤ 2×): what loading the CLI costs;
 * - `detour fetch` of one small file from a loopback HTTP server against a one-shot script that
 *   imports got and downloads the same URL (target ≤ 1.25×).
 * The CLI is the built one (`pnpm build`: tsc output plus the start-up bundle), run as users run
 * it (packages/cli/bin/detour.js under plain `node`), with a state directory of its own that the
 * warm-up run fills, as on a machine where it ran before.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../lib/lab-process.js';
import { type Cell, type Figure, NotAvailable, type Target } from '../lib/types.js';
import { ratio, round, summarize } from '../stats.js';

const BIN = join(REPO_ROOT, 'packages/cli/bin/detour.js');
const GOT_SCRIPT = join(REPO_ROOT, 'bench/children/got-oneshot.mjs');

/** Wall time of one process, from spawn to exit (ms); a failure stops the figure. */
function timed(args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    execFile(process.execPath, args, { env, cwd: REPO_ROOT, timeout: 60_000 }, (error, _out, stderr) => {
      const ms = performance.now() - started;
      if (error) reject(new Error(`node ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolve(ms);
    });
  });
}

interface Row {
  label: string;
  baseline: string;
  target: number;
  command: string[];
  reference: string[];
}

export const figure: Figure = {
  id: 9,
  key: 'startup',
  title: 'Start-up: the detour command vs node and a one-shot got script',
  async run(ctx) {
    if (!existsSync(join(REPO_ROOT, 'packages/cli/dist/bundle/bin.js'))) {
      throw new NotAvailable('the CLI is not built (run pnpm build: tsc -b and the start-up bundle)');
    }
    const body = Buffer.alloc(2 * 1024, 0x61);
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ctx.defer(() => new Promise((resolve) => server.close(resolve)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/small.bin`;
    const state = mkdtempSync(join(tmpdir(), 'detour-bench-state-'));
    ctx.defer(() => rmSync(state, { recursive: true, force: true }));
    // No proxy variables from the bench's own environment; the CLI's state in a directory of its own.
    const env = { PATH: process.env.PATH ?? '', HOME: state, XDG_STATE_HOME: state };

    const rows: Row[] = [
      {
        label: 'detour --version',
        baseline: 'node -e 0',
        target: 2,
        command: [BIN, '--version'],
        reference: ['-e', '0'],
      },
      {
        label: 'detour fetch (2 KiB, loopback HTTP)',
        baseline: 'node script: import got, download',
        target: 1.25,
        command: [BIN, 'fetch', url, '--allow-private'],
        reference: [GOT_SCRIPT, url],
      },
    ];
    const { runs } = ctx.config.startup;
    const table: Cell[][] = [];
    const targets: Target[] = [];
    const data: Record<string, { command: number[]; reference: number[]; ratios: number[] }> = {};
    for (const row of rows) {
      // Warm-up: the page cache, and the CLI's state directory (route memory, recent detection).
      await timed(row.command, env);
      await timed(row.reference, env);
      const times = { command: [] as number[], reference: [] as number[], ratios: [] as number[] };
      for (let run = 0; run < runs; run++) {
        if (ctx.signal.aborted) break;
        const first = run % 2 === 0;
        const a = await timed(first ? row.command : row.reference, env);
        const b = await timed(first ? row.reference : row.command, env);
        const [command, reference] = first ? [a, b] : [b, a];
        times.command.push(command);
        times.reference.push(reference);
        times.ratios.push(ratio(command, reference));
      }
      ctx.log(`${row.label}: ${times.ratios.length} pairs`);
      const c = summarize(times.command);
      const r = summarize(times.reference);
      const q = summarize(times.ratios);
      data[row.label] = times;
      table.push([
        row.label,
        round(c.median, 0),
        row.baseline,
        round(r.median, 0),
        round(q.median, 2),
        round(q.p95, 2),
        `≤ ${row.target}`,
      ]);
      targets.push({
        name: `${row.label} ÷ ${row.baseline}`,
        target: `≤ ${row.target}`,
        value: Number.isFinite(q.median) ? round(q.median, 2) : null,
        met: Number.isFinite(q.median) ? q.median <= row.target : null,
      });
    }
    return {
      tables: [
        {
          columns: [
            'command',
            'ms (median)',
            'baseline',
            'baseline ms',
            '× baseline (median)',
            'p95',
            'target',
          ],
          rows: table,
        },
      ],
      targets,
      notes: [
        `${runs} pairs per row, the two processes taking turns (order flipped every run); the ratio is per pair.`,
        'The CLI runs from packages/cli/bin/detour.js, which loads the start-up bundle (scripts/bundle-cli.mjs).',
      ],
      data,
    };
  },
};
