/**
 * Values labelled by a table's header rather than on their own line: a `dob` column of psql's
 * aligned output, of a mysql box, of a CSV export (`,`, `;` or tab), or of a column-aligned
 * report (`sqlite3 -column`, kubectl-style output). The line-local detectors only see a label
 * next to its value (`dob: 1990-01-02`); in a table the label is in the header and the values sit
 * in the rows below, so, like ./private-key.ts, this is tracked with state carried from one line
 * (and one scanned unit) to the next.
 *
 * A header is a line of at least two name-like cells (split the way its table is), one of which
 * is the full label of a ColumnRule (`dob`, `date_of_birth`, `ssn`, `cpf`, …). Each following line
 * that splits into the same cells (same count; for an aligned report, blanks just before every
 * column start) is a row, and the cell under a labelled column is reported when it has the
 * column's value shape (and check digits). Rule lines (`---+---`, `+----+`, `-----  ----`) keep
 * the table open; any other line closes it and may open the next one.
 *
 * State changes only at line ends, so any chunking of the stream gives the same findings. A unit
 * that ends without a '\n' is a piece of an over-long line (or the stream's last bytes): the rest
 * of that line is never a row, and it closes the table.
 */
import { candidatesOf } from './detectors/candidates.js';
import type { ColumnRule, Emit } from './types.js';

/** Longer lines are never headers or rows (and close a table): real tables are narrower. */
const MAX_TABLE_LINE = 4096;
const MAX_COLUMNS = 128;
/** A header cell: a column name, not a value (values start with a digit, a sign, a quote, …). */
const COLUMN_NAME = /^[A-Za-z_?][\w.#?()*/ -]{0,63}$/;
/** A line drawn between a table's header and rows (psql, mysql, markdown): these chars and a '-'. */
const RULE_CHARS = /^[ \t|+:=-]*$/;
const isRuleLine = (line: string): boolean => line.includes('-') && RULE_CHARS.test(line);
const DELIMITERS = ['\t', ';', ','] as const;

type Table =
  | { kind: 'pipe'; cells: number; rules: ReadonlyMap<number, ColumnRule> }
  | { kind: 'delimited'; delimiter: string; cells: number; rules: ReadonlyMap<number, ColumnRule> }
  | { kind: 'aligned'; starts: readonly number[]; rules: ReadonlyMap<number, ColumnRule> };

/** [start, end) of a cell within the text being scanned. */
type Span = [number, number];

export class ColumnTracker {
  private table: Table | undefined;
  /** The previous unit ended inside a line: the start of this one continues it. */
  private midLine = false;
  /** Each rule's labels as a whole header cell. */
  private readonly headers: readonly { rule: ColumnRule; header: RegExp }[];
  /** Any rule's label at a token start (a header line must hold one). */
  private readonly label: RegExp;

  constructor(rules: readonly ColumnRule[]) {
    this.headers = rules.map((rule) => ({ rule, header: new RegExp(`^(?:${rule.labels})$`, 'i') }));
    this.label = new RegExp(`(?:${rules.map((rule) => rule.labels).join('|')})(?![\\w-])`, 'iy');
  }

  /** The rule a single field's value falls under: its column's name is the rule's label and the value has the rule's shape. */
  cellRule(column: string, value: string): ColumnRule | undefined {
    const trimmedValue = value.trim();
    return this.headers.find(({ rule, header }) => header.test(column) && rule.value.test(trimmedValue) && (rule.valid?.(trimmedValue) ?? true))
      ?.rule;
  }

  /** Reports the labelled cells of the table rows in `text` (the next unit of the stream). */
  scan(text: string, emit: Emit): void {
    let labels: number[] | undefined; // where a header could be, found when first needed
    let nextLabel = 0;
    let start = 0;
    while (start < text.length) {
      if (this.table === undefined && !this.midLine) {
        // Without a table open, lines without a label change nothing: go to the next label's line.
        labels ??= this.labelsOf(text);
        while (nextLabel < labels.length && (labels[nextLabel] ?? 0) < start) nextLabel++;
        const label = labels[nextLabel];
        if (label === undefined) {
          this.midLine = text.charCodeAt(text.length - 1) !== 10;
          return;
        }
        start = text.lastIndexOf('\n', label) + 1;
      }
      const newline = text.indexOf('\n', start);
      const end = newline === -1 ? text.length : newline;
      if (this.midLine) {
        this.table = undefined;
      } else {
        const contentEnd = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end; // '\r\n'
        if (this.table !== undefined && !this.row(text, start, contentEnd, this.table, emit)) this.table = undefined;
        if (this.table === undefined) {
          labels ??= this.labelsOf(text);
          while (nextLabel < labels.length && (labels[nextLabel] ?? 0) < start) nextLabel++;
          if ((labels[nextLabel] ?? end) < end) this.table = this.header(text.slice(start, contentEnd));
        }
      }
      this.midLine = newline === -1;
      start = end + 1;
    }
  }

  /** Ascending starts of the tokens of `text` where a rule's label starts. */
  private labelsOf(text: string): number[] {
    const candidates = candidatesOf(text);
    const labels: number[] = [];
    for (const list of [candidates.dateOfBirthLabels, candidates.ssnLabels, candidates.cpfLabels, candidates.passportLabels, candidates.awsSecretLabels]) {
      for (const position of list) {
        this.label.lastIndex = position;
        if (this.label.test(text)) labels.push(position);
      }
    }
    return labels.sort((a, b) => a - b);
  }

  private header(line: string): Table | undefined {
    if (line.length > MAX_TABLE_LINE) return undefined;
    if (line.includes('|')) {
      const spans = pipeCells(line, 0, line.length);
      const rules = spans === undefined ? undefined : this.labelled(line, spans);
      return rules === undefined || spans === undefined ? undefined : { kind: 'pipe', cells: spans.length, rules };
    }
    for (const delimiter of DELIMITERS) {
      if (!line.includes(delimiter)) continue;
      const spans = delimitedCells(line, 0, line.length, delimiter);
      const rules = spans === undefined ? undefined : this.labelled(line, spans);
      return rules === undefined || spans === undefined ? undefined : { kind: 'delimited', delimiter, cells: spans.length, rules };
    }
    const spans = alignedHeaderCells(line);
    const rules = spans === undefined ? undefined : this.labelled(line, spans);
    return rules === undefined || spans === undefined ? undefined : { kind: 'aligned', starts: spans.map(([start]) => start), rules };
  }

  /** The columns whose header cell is a rule's label, if every cell is a column name. */
  private labelled(line: string, spans: readonly Span[]): Map<number, ColumnRule> | undefined {
    if (spans.length < 2) return undefined;
    const rules = new Map<number, ColumnRule>();
    for (let column = 0; column < spans.length; column++) {
      const [start, end] = trimmed(line, ...(spans[column] as Span));
      const name = unquoted(line.slice(start, end));
      if (!COLUMN_NAME.test(name)) return undefined;
      const match = this.headers.find(({ header }) => header.test(name));
      if (match !== undefined) rules.set(column, match.rule);
    }
    return rules.size > 0 ? rules : undefined;
  }

  /** Whether [start, end) of `text` is a row (or rule line) of `table`; reports its labelled cells. */
  private row(text: string, start: number, end: number, table: Table, emit: Emit): boolean {
    if (end - start > MAX_TABLE_LINE || end === start) return false;
    let spans: Span[] | undefined;
    if (table.kind === 'aligned') {
      spans = alignedCells(text, start, end, table.starts);
    } else {
      if (table.kind === 'pipe' && isRuleLine(text.slice(start, end))) return true;
      spans = table.kind === 'pipe' ? pipeCells(text, start, end) : delimitedCells(text, start, end, table.delimiter);
      if (spans?.length !== table.cells) return false;
    }
    if (spans === undefined) return false;
    for (const [column, rule] of table.rules) {
      const span = spans[column];
      if (span === undefined) continue;
      let [valueStart, valueEnd] = trimmed(text, ...span);
      if (valueEnd - valueStart >= 2 && text.charCodeAt(valueStart) === 34 && text.charCodeAt(valueEnd - 1) === 34) {
        valueStart++;
        valueEnd--;
      }
      const value = text.slice(valueStart, valueEnd);
      if (rule.value.test(value) && (rule.valid?.(value) ?? true)) emit(valueStart, valueEnd, rule.entityType);
    }
    return true;
  }
}

function trimmed(text: string, start: number, end: number): Span {
  while (start < end && isBlank(text.charCodeAt(start))) start++;
  while (end > start && isBlank(text.charCodeAt(end - 1))) end--;
  return [start, end];
}

const isBlank = (code: number): boolean => code === 32 || code === 9;
const unquoted = (cell: string): string => (cell.length >= 2 && cell.startsWith('"') && cell.endsWith('"') ? cell.slice(1, -1) : cell);

/** Cells between '|'s; a leading and a trailing '|' (mysql, markdown) open and close the row. */
function pipeCells(text: string, start: number, end: number): Span[] | undefined {
  const [first, last] = trimmed(text, start, end);
  if (first === last) return undefined;
  const from = text.charCodeAt(first) === 124 ? first + 1 : start;
  const to = last > from && text.charCodeAt(last - 1) === 124 ? last - 1 : end;
  const spans: Span[] = [];
  let cellStart = from;
  for (let i = from; i <= to; i++) {
    if (i === to || text.charCodeAt(i) === 124) {
      spans.push([cellStart, i]);
      if (spans.length > MAX_COLUMNS) return undefined;
      cellStart = i + 1;
    }
  }
  return spans;
}

/** Cells of a delimited line; a field in double quotes may hold the delimiter ("" escapes a quote). */
function delimitedCells(text: string, start: number, end: number, delimiter: string): Span[] | undefined {
  const separator = delimiter.charCodeAt(0);
  const spans: Span[] = [];
  let cellStart = start;
  let i = start;
  while (i <= end) {
    if (i < end && i === cellStart && text.charCodeAt(i) === 34) {
      // A quoted field: up to the closing quote that is not doubled.
      i++;
      while (i < end && !(text.charCodeAt(i) === 34 && text.charCodeAt(i + 1) !== 34)) i += text.charCodeAt(i) === 34 ? 2 : 1;
      i++;
      continue;
    }
    if (i === end || text.charCodeAt(i) === separator) {
      spans.push([cellStart, i]);
      if (spans.length > MAX_COLUMNS) return undefined;
      cellStart = i + 1;
    }
    i++;
  }
  return spans;
}

/** Cells of an aligned header: names separated by two or more blanks. */
function alignedHeaderCells(line: string): Span[] | undefined {
  const spans: Span[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && isBlank(line.charCodeAt(i))) i++;
    if (i === line.length) break;
    const cellStart = i;
    // A name may hold single blanks ("LAST SEEN"); two blanks end it.
    while (i < line.length && !(isBlank(line.charCodeAt(i)) && (i + 1 === line.length || isBlank(line.charCodeAt(i + 1))))) i++;
    spans.push([cellStart, i]);
    if (spans.length > MAX_COLUMNS) return undefined;
  }
  return spans;
}

/**
 * Cells of a row of an aligned table whose columns start at `starts` (offsets in the header line):
 * every column start inside the row must follow a blank, or the line is not a row.
 */
function alignedCells(text: string, start: number, end: number, starts: readonly number[]): Span[] | undefined {
  const spans: Span[] = [];
  for (let column = 0; column < starts.length; column++) {
    const cellStart = start + (starts[column] ?? 0);
    if (cellStart >= end) {
      spans.push([end, end]);
      continue;
    }
    if (column > 0 && !isBlank(text.charCodeAt(cellStart - 1))) return undefined;
    const next = starts[column + 1];
    spans.push([cellStart, next === undefined ? end : Math.min(end, start + next)]);
  }
  return spans;
}
