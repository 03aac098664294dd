/** Benchmark output: one JSON line per figure, as DEVELOPERS.md fixes it. */

export interface BenchLine {
  bench: string;
  n: number;
  value: number;
  unit: string;
  /** Measured in the same run; null only where the issue gives an absolute bound. */
  reference: number | null;
  ratio: number | null;
  /** The bound on the ratio (or on the value, when reference is null). */
  target: number;
  ok: boolean;
  note?: string;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** Print a ratio line: ok when value / reference ≤ target. */
export function ratioLine(bench: string, n: number, value: number, unit: string, reference: number, target: number, note?: string): BenchLine {
  const ratio = value / reference;
  const line: BenchLine = { bench, n, value: round(value), unit, reference: round(reference), ratio: round(ratio), target, ok: ratio <= target, ...(note ? { note } : {}) };
  console.log(JSON.stringify(line));
  return line;
}

/** Print an absolute-bound line: ok when value ≤ target. */
export function boundLine(bench: string, n: number, value: number, unit: string, target: number, note?: string): BenchLine {
  const line: BenchLine = { bench, n, value: round(value), unit, reference: null, ratio: null, target, ok: value <= target, ...(note ? { note } : {}) };
  console.log(JSON.stringify(line));
  return line;
}

/** q-quantile (0..1) of a list of numbers. */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const at = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[at]!;
}

export function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

/** Print a ratio line where more is better: ok when value / reference ≥ target. */
export function minRatioLine(bench: string, n: number, value: number, unit: string, reference: number, target: number, note?: string): BenchLine {
  const ratio = value / reference;
  const line: BenchLine = { bench, n, value: round(value), unit, reference: round(reference), ratio: round(ratio), target, ok: ratio >= target, ...(note ? { note } : {}) };
  console.log(JSON.stringify(line));
  return line;
}

/** Print a figure reported beside its reference without a target (the issue sets none). */
export function infoLine(bench: string, n: number, value: number, unit: string, reference: number, note?: string): BenchLine {
  const line = { bench, n, value: round(value), unit, reference: round(reference), ratio: round(value / reference), target: null, ok: true, ...(note ? { note } : {}) };
  console.log(JSON.stringify(line));
  return line as unknown as BenchLine;
}
