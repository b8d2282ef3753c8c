import type { AttemptRecord } from '@detour/core';

/** A plain-text table: columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function attemptsTable(attempts: readonly AttemptRecord[]): string {
  return table(
    ['#', 'strategy', 'route', 'outcome', 'class', 'code', 'ms'],
    attempts.map((a, i) => [
      String(i + 1),
      a.strategy,
      a.route,
      a.outcome,
      a.failureClass ?? '',
      [
        a.code ?? (a.outcome === 'skipped' ? (a.message ?? '') : ''),
        a.resumes ? `${a.resumes} resume(s)` : '',
        a.restarts ? `${a.restarts} restart(s)` : '',
      ]
        .filter(Boolean)
        .join(', '),
      String(a.ms),
    ]),
  );
}
