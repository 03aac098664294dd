/**
 * Elastic tabstops as docker's table output aligns them: Go's text/tabwriter algorithm, in the fork
 * docker/cli keeps (cli/command/formatter/tabwriter), which measures cells in terminal columns
 * (mattn/go-runewidth) rather than in runes. docker uses minwidth 10, tabwidth 1, padding 3,
 * padchar ' ', no flags.
 *
 * Cells are terminated by '\t' or '\v'; '\n' ends a line and '\f' ends a line and the block. A column
 * is a run of consecutive lines that all have a tab-terminated cell at that index; each cell of the
 * column is padded to the widest cell plus the padding (at least minwidth). Text after the last tab
 * of a line is not part of any column and is written as it is.
 */

export interface TabwriterOptions {
  /** Minimal cell width, padding included. */
  minWidth: number;
  /** Padding added to a cell's width. */
  padding: number;
  /** The padding character (docker: a space). */
  padChar: string;
}

/** The options docker's formatter passes to tabwriter.NewWriter(out, 10, 1, 3, ' ', 0). */
export const dockerTableOptions: TabwriterOptions = { minWidth: 10, padding: 3, padChar: ' ' };

interface Cell {
  text: string;
  width: number;
}

/** Zero-width code points: combining marks, format characters, variation selectors, controls. */
const zeroWidth = /^[\p{Mn}\p{Me}\p{Cf}\p{Cc}\u{FE00}-\u{FE0F}\u{E0100}-\u{E01EF}]$/u;

/** East Asian Wide and Fullwidth ranges, and emoji shown in emoji presentation. */
const wideRanges: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f], [0x231a, 0x231b], [0x2329, 0x232a], [0x23e9, 0x23ec], [0x23f0, 0x23f0], [0x23f3, 0x23f3],
  [0x25fd, 0x25fe], [0x2614, 0x2615], [0x2648, 0x2653], [0x267f, 0x267f], [0x2693, 0x2693], [0x26a1, 0x26a1],
  [0x26aa, 0x26ab], [0x26bd, 0x26be], [0x26c4, 0x26c5], [0x26ce, 0x26ce], [0x26d4, 0x26d4], [0x26ea, 0x26ea],
  [0x26f2, 0x26f3], [0x26f5, 0x26f5], [0x26fa, 0x26fa], [0x26fd, 0x26fd], [0x2705, 0x2705], [0x270a, 0x270b],
  [0x2728, 0x2728], [0x274c, 0x274c], [0x274e, 0x274e], [0x2753, 0x2755], [0x2757, 0x2757], [0x2795, 0x2797],
  [0x27b0, 0x27b0], [0x27bf, 0x27bf], [0x2b1b, 0x2b1c], [0x2b50, 0x2b50], [0x2b55, 0x2b55], [0x2e80, 0x303e],
  [0x3041, 0x33ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff], [0xa000, 0xa4cf], [0xa960, 0xa97f], [0xac00, 0xd7a3],
  [0xf900, 0xfaff], [0xfe10, 0xfe19], [0xfe30, 0xfe6f], [0xff00, 0xff60], [0xffe0, 0xffe6], [0x16fe0, 0x16fe4],
  [0x17000, 0x18aff], [0x1b000, 0x1b2ff], [0x1f004, 0x1f004], [0x1f0cf, 0x1f0cf], [0x1f18e, 0x1f18e],
  [0x1f191, 0x1f19a], [0x1f200, 0x1f202], [0x1f210, 0x1f23b], [0x1f240, 0x1f248], [0x1f250, 0x1f251],
  [0x1f260, 0x1f265], [0x1f300, 0x1f320], [0x1f32d, 0x1f335], [0x1f337, 0x1f37c], [0x1f37e, 0x1f393],
  [0x1f3a0, 0x1f3ca], [0x1f3cf, 0x1f3d3], [0x1f3e0, 0x1f3f0], [0x1f3f4, 0x1f3f4], [0x1f3f8, 0x1f43e],
  [0x1f440, 0x1f440], [0x1f442, 0x1f4fc], [0x1f4ff, 0x1f53d], [0x1f54b, 0x1f54e], [0x1f550, 0x1f567],
  [0x1f57a, 0x1f57a], [0x1f595, 0x1f596], [0x1f5a4, 0x1f5a4], [0x1f5fb, 0x1f64f], [0x1f680, 0x1f6c5],
  [0x1f6cc, 0x1f6cc], [0x1f6d0, 0x1f6d2], [0x1f6d5, 0x1f6d7], [0x1f6dc, 0x1f6df], [0x1f6eb, 0x1f6ec],
  [0x1f6f4, 0x1f6fc], [0x1f7e0, 0x1f7eb], [0x1f7f0, 0x1f7f0], [0x1f90c, 0x1f93a], [0x1f93c, 0x1f945],
  [0x1f947, 0x1f9ff], [0x1fa70, 0x1faff], [0x20000, 0x2fffd], [0x30000, 0x3fffd],
];

function isWide(code: number): boolean {
  let low = 0;
  let high = wideRanges.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const [first, last] = wideRanges[middle]!;
    if (code < first) high = middle - 1;
    else if (code > last) low = middle + 1;
    else return true;
  }
  return false;
}

/**
 * Terminal columns of a string, as go-runewidth counts them outside CJK locales: 2 for wide and
 * fullwidth characters, 0 for combining and format characters (and what a zero-width joiner joins).
 */
export function stringWidth(text: string): number {
  let width = 0;
  let joined = false;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (joined) {
      joined = false;
      continue;
    }
    if (code === 0x200d) {
      joined = true;
      continue;
    }
    if (zeroWidth.test(char)) continue;
    width += isWide(code) ? 2 : 1;
  }
  return width;
}

/** Aligns tab-terminated cells into columns, as tabwriter.Writer does between Write and Flush. */
export function tabwrite(text: string, options: TabwriterOptions = dockerTableOptions): string {
  // '\f' flushes: what comes before it is formatted on its own.
  return text
    .split('\f')
    .map((segment) => formatSegment(segment, options))
    .join('\n');
}

function formatSegment(text: string, options: TabwriterOptions): string {
  const lines: Cell[][] = [[]];
  let cellText = '';
  for (const char of text) {
    if (char === '\t' || char === '\v' || char === '\n') {
      lines[lines.length - 1]!.push({ text: cellText, width: stringWidth(cellText) });
      cellText = '';
      if (char === '\n') lines.push([]);
    } else {
      cellText += char;
    }
  }
  if (cellText.length > 0) lines[lines.length - 1]!.push({ text: cellText, width: stringWidth(cellText) });

  let out = '';
  const widths: number[] = [];

  const writeLines = (line0: number, line1: number) => {
    for (let index = line0; index < line1; index++) {
      const line = lines[index]!;
      line.forEach((cell, column) => {
        out += cell.text;
        if (column < widths.length) out += options.padChar.repeat(Math.max(widths[column]! - cell.width, 0));
      });
      if (index + 1 < lines.length) out += '\n';
    }
  };

  const format = (first: number, last: number) => {
    let line0 = first;
    const column = widths.length;
    for (let current = first; current < last; current++) {
      if (column >= lines[current]!.length - 1) continue;
      // A column block starts here: print the lines before it, then find its extent and width.
      writeLines(line0, current);
      line0 = current;
      let width = options.minWidth;
      for (; current < last; current++) {
        const line = lines[current]!;
        if (column >= line.length - 1) break;
        width = Math.max(width, line[column]!.width + options.padding);
      }
      widths.push(width);
      format(line0, current);
      widths.pop();
      line0 = current;
    }
    writeLines(line0, last);
  };

  format(0, lines.length);
  return out;
}
