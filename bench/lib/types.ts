/** The shapes every figure and the suite share. */
import type { BenchConfig } from './config.js';

export type Cell = number | string | null;

export interface FigureTable {
  columns: string[];
  rows: Cell[][];
}

/** One target from the issue, checked against a measured value. */
export interface Target {
  name: string;
  /** Human form of the target, e.g. `≤ 1.10`. */
  target: string;
  value: number | null;
  /** `null` when it could not be measured. */
  met: boolean | null;
}

export type FigureStatus = 'ok' | 'n/a' | 'error';

export interface FigureResult {
  id: number;
  key: string;
  title: string;
  status: FigureStatus;
  /** Why a figure is `n/a` or `error`. */
  reason?: string;
  durationMs: number;
  tables: Array<FigureTable & { caption?: string }>;
  targets: Target[];
  notes: string[];
  /** Every number behind the tables (per run), for the JSON file. */
  data?: unknown;
}

/** What a figure's `run` gives back; the suite adds id, title, status and duration. */
export type FigureOutput = Pick<FigureResult, 'tables' | 'targets' | 'notes' | 'data'>;

export interface FigureContext {
  config: BenchConfig;
  /** Progress line on stderr (the table goes to stdout). */
  log(message: string): void;
  /** Register cleanup (servers, children, pipelines); run after the figure, even on failure or timeout. */
  defer(cleanup: () => unknown): void;
  /** Aborted when the figure runs over its time budget. */
  signal: AbortSignal;
}

export interface Figure {
  id: number;
  key: string;
  title: string;
  run(ctx: FigureContext): Promise<FigureOutput>;
}

/** Thrown when a piece a figure needs (a package, a lab server, curl) is missing: the figure prints `n/a`. */
export class NotAvailable extends Error {
  override readonly name = 'NotAvailable';
}
