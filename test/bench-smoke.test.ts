/**
 * The benchmark harness still runs: figure 1 in quick mode, structure only. No timing is asserted
 * here (a benchmark is not a test); `pnpm bench` is where the numbers are.
 */
import { expect, it } from 'vitest';
import { benchConfig } from '../bench/lib/config.js';
import { runSuite } from '../bench/suite.js';

it('runs figure 1 in quick mode and reports finite numbers', async () => {
  const config = benchConfig({ BENCH_QUICK: '1' });
  config.runs = 1;
  const { report } = await runSuite({ config, only: [1], outDir: false, print: false, log: () => {} });
  const figure = report.figures.find((f) => f.id === 1);
  expect(figure?.status, figure?.reason).toBe('ok');
  const table = figure!.tables[0]!;
  expect(table.rows.length).toBeGreaterThanOrEqual(4 * 5);
  const clients = new Set(table.rows.map((row) => row[1]));
  expect([...clients]).toEqual(
    expect.arrayContaining(['detour (ca option)', 'detour (system trust)', 'got', 'undici']),
  );
  for (const row of table.rows) {
    for (const cell of row) if (typeof cell === 'number') expect(Number.isFinite(cell)).toBe(true);
  }
  // 4 node scenarios × 2 judged clients × (latency, throughput), plus time per fetch for the 2
  // judged clients in the 2 nginx rows when nginx is installed (else those rows are skipped).
  const nginx = table.rows.some((row) => String(row[0]).startsWith('nginx:'));
  expect(figure!.targets.length).toBe(16 + (nginx ? 4 : 0));
  for (const target of figure!.targets) expect(Number.isFinite(target.value)).toBe(true);
  expect(JSON.parse(JSON.stringify(report)).figures[0].key).toBe('overhead');
}, 60_000);
