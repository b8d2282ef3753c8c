/** Markdown tables (readable in a terminal, pasteable into the README). */
import type { Cell, FigureResult, FigureTable } from './types.js';

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

function cell(value: Cell): string {
  if (value === null) return '–';
  return typeof value === 'number' ? formatNumber(value) : value;
}

export function markdownTable(table: FigureTable): string {
  const rows = table.rows.map((row) => row.map(cell));
  const widths = table.columns.map((name, i) =>
    Math.max(name.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(table.columns), rule, ...rows.map(line)].join('\n');
}

const mark = (met: boolean | null) => (met === null ? '?' : met ? '✓' : '✗');

export function formatFigure(figure: FigureResult): string {
  const out = [`### Figure ${figure.id}: ${figure.title}`, ''];
  if (figure.status !== 'ok') {
    out.push(`${figure.status === 'n/a' ? 'n/a' : 'error'}: ${figure.reason ?? 'no reason given'}`, '');
  }
  for (const table of figure.tables) {
    if (table.caption) out.push(table.caption, '');
    out.push(markdownTable(table), '');
  }
  if (figure.targets.length) {
    out.push('Targets:');
    for (const t of figure.targets) {
      out.push(
        `- ${mark(t.met)} ${t.name}: ${t.value === null ? 'n/a' : formatNumber(t.value)} (target ${t.target})`,
      );
    }
    out.push('');
  }
  for (const note of figure.notes) out.push(`> ${note}`);
  if (figure.notes.length) out.push('');
  return out.join('\n');
}

export function summaryTable(figures: readonly FigureResult[]): string {
  return markdownTable({
    columns: ['figure', 'status', 'targets met', 'seconds'],
    rows: figures.map((f) => [
      `${f.id}. ${f.title}`,
      f.status === 'ok' ? 'ok' : `${f.status}: ${f.reason ?? ''}`.slice(0, 90),
      f.targets.length ? `${f.targets.filter((t) => t.met).length}/${f.targets.length}` : '–',
      f.durationMs / 1000,
    ]),
  });
}
