/**
 * The masking engine: a synchronous byte-stream masker. Feed chunks with `write`, finish with
 * `end`; each call returns the masked bytes that are ready. Bytes are held back only until their
 * line is complete (or, for a line longer than MAX_PIECE_BYTES, until its next piece is decided),
 * so memory per stream is bounded by MAX_PIECE_BYTES plus the chunk being written.
 *
 * Guarantee: without detector failures, any split of the input into chunks produces exactly the
 * same output bytes and metrics as a single chunk.
 */
import { ColumnTracker } from './columns.js';
import { BUILT_IN_COLUMN_RULES, BUILT_IN_DETECTORS, createCustomDetector } from './detectors/index.js';
import { resolveEntityTypes } from './entity-types.js';
import { MAX_PIECE_BYTES, pieceEnd } from './pieces.js';
import { PrivateKeyTracker, type KeyRange } from './private-key.js';
import { MASKING_ERROR_MARKER, redactionMarker } from './redaction.js';
import type { DataMaskingMetrics, Detector, MaskingMode, MaskingOptions } from './types.js';

const PRIVATE_KEY = 'PRIVATE_KEY';

export class MaskingStream {
  /** Entity types requested but not detectable by this engine (e.g. PERSON): callers should warn. */
  readonly unsupportedEntityTypes: readonly string[];
  private readonly detectors: readonly Detector[];
  private readonly wanted: ReadonlySet<string>;
  private readonly labels: ReadonlyMap<string, string>;
  private readonly mode: MaskingMode;
  private readonly keys: PrivateKeyTracker | undefined;
  private readonly columns: ColumnTracker | undefined;
  private readonly counts: DataMaskingMetrics = { err_count: 0, info_types: {}, total_redact_count: 0, transformed_bytes: 0 };
  /** Start of the current line (or of its next piece), not yet scanned. */
  private pending = '';
  /** Stream offset of the first byte of the unit being scanned. */
  private unitOffset = 0;
  private readonly onFinding: MaskingOptions['onFinding'];
  private ended = false;

  constructor(options: MaskingOptions = {}) {
    const resolved = resolveEntityTypes(options.entityTypes);
    const wanted = new Set(resolved.wanted);
    const labels = new Map(resolved.labels);
    const custom = (options.customEntityTypes ?? []).map((type) => {
      wanted.add(type.name);
      labels.set(type.name, type.name);
      return createCustomDetector(type);
    });
    const extra = options.detectors ?? [];
    for (const detector of extra) for (const type of detector.entityTypes) wanted.add(type);
    this.unsupportedEntityTypes = resolved.unsupported;
    this.wanted = wanted;
    this.labels = labels;
    this.detectors = [...BUILT_IN_DETECTORS, ...custom, ...extra].filter((d) => d.entityTypes.some((t) => wanted.has(t)));
    this.keys = wanted.has(PRIVATE_KEY) ? new PrivateKeyTracker() : undefined;
    const columnRules = BUILT_IN_COLUMN_RULES.filter((rule) => wanted.has(rule.entityType));
    this.columns = columnRules.length > 0 ? new ColumnTracker(columnRules) : undefined;
    this.mode = options.mode ?? 'strict';
    this.onFinding = options.onFinding;
  }

  write(chunk: Uint8Array): Buffer {
    if (this.ended) throw new Error('masking stream already ended');
    return this.drain(this.pending + Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1'), false);
  }

  end(): Buffer {
    if (this.ended) return Buffer.alloc(0);
    this.ended = true;
    return this.drain(this.pending, true);
  }

  /**
   * Masks one field of a database row on its own: the whole value when its column's name labels
   * it (a `dob` column holding a date), otherwise whatever the detectors find in it. Counts in
   * this stream's metrics; text held back by `write` stays held back.
   */
  maskValue(value: Uint8Array, column?: string): Buffer {
    const text = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1');
    const rule = column === undefined ? undefined : this.columns?.cellRule(column, text);
    if (rule) {
      this.count(rule.entityType, 0, text.length);
      this.unitOffset += text.length;
      return Buffer.from(redactionMarker(this.labels.get(rule.entityType) ?? rule.entityType), 'latin1');
    }
    const held = this.pending;
    this.pending = '';
    try {
      return this.drain(text, true);
    } finally {
      this.pending = held;
    }
  }

  metrics(): DataMaskingMetrics {
    return { ...this.counts, info_types: { ...this.counts.info_types } };
  }

  /** Scans every unit of `text` that is decided, keeps the undecided tail in `pending`. */
  private drain(text: string, final: boolean): Buffer {
    const out: string[] = [];
    let unitStart = 0;
    let position = 0;
    let newline = -2; // cached index of the next '\n' at or after `position` (-1: none)
    while (position < text.length) {
      if (newline !== -1 && newline < position) newline = text.indexOf('\n', position);
      const contentEnd = newline === -1 ? text.length : newline;
      if (contentEnd - position > MAX_PIECE_BYTES) {
        if (unitStart < position) out.push(this.scanUnit(text.slice(unitStart, position)));
        const end = pieceEnd(text, position);
        out.push(this.scanUnit(text.slice(position, end)));
        position = unitStart = end;
      } else if (newline === -1) {
        if (final) position = text.length;
        break;
      } else {
        position = newline + 1;
      }
    }
    if (unitStart < position) out.push(this.scanUnit(text.slice(unitStart, position)));
    this.pending = text.slice(position);
    return Buffer.from(out.join(''), 'latin1');
  }

  /** Masks one unit (whole lines or one piece of a long line). */
  private scanUnit(text: string): string {
    const masked = this.maskUnit(text);
    this.unitOffset += text.length;
    return masked;
  }

  private maskUnit(text: string): string {
    const keyRanges = this.keys?.scan(text) ?? [];
    const starts: number[] = [];
    const ends: number[] = [];
    const types: string[] = [];
    const emit = (start: number, end: number, type: string): void => {
      starts.push(start);
      ends.push(end);
      types.push(type);
    };
    let failures = 0;
    for (const detector of this.detectors) {
      try {
        detector.find(text, emit, this.wanted);
      } catch {
        failures++;
      }
    }
    try {
      this.columns?.scan(text, emit);
    } catch {
      failures++;
    }
    if (failures > 0) {
      this.counts.err_count += failures;
      if (this.mode === 'strict') return text.endsWith('\n') ? `${MASKING_ERROR_MARKER}\n` : MASKING_ERROR_MARKER;
    }
    if (starts.length === 0 && keyRanges.length === 0) return text;
    return this.redact(text, keyRanges, starts, ends, types);
  }

  /** Counts one redaction of `length` bytes at `start` of the current unit; returns the label its marker shows. */
  private count(type: string, start: number, length: number): string {
    const label = this.labels.get(type) ?? type;
    this.counts.transformed_bytes += length;
    this.counts.info_types[label] = (this.counts.info_types[label] ?? 0) + 1;
    this.counts.total_redact_count++;
    this.onFinding?.({ offset: this.unitOffset + start, length, entityType: label });
    return label;
  }

  /**
   * Replaces values, leftmost first; on overlap the longer value wins, then the earlier detector.
   * Private-key ranges win over everything.
   */
  private redact(text: string, keyRanges: KeyRange[], starts: number[], ends: number[], types: string[]): string {
    const order = starts.map((_, i) => i);
    order.sort((a, b) => (starts[a] ?? 0) - (starts[b] ?? 0) || (ends[b] ?? 0) - (ends[a] ?? 0) || a - b);
    const overlapsKey = (start: number, end: number): boolean => keyRanges.some((r) => start < r.end && r.start < end);
    const parts: string[] = [];
    let cursor = 0;
    let nextKey = 0;
    const replace = (start: number, end: number, type: string | undefined): void => {
      parts.push(text.slice(cursor, start));
      if (type === undefined) this.counts.transformed_bytes += end - start;
      if (type !== undefined) parts.push(redactionMarker(this.count(type, start, end - start)));
      cursor = end;
    };
    const flushKeysBefore = (position: number): void => {
      for (let range = keyRanges[nextKey]; range !== undefined && range.start < position; range = keyRanges[++nextKey]) {
        replace(range.start, range.end, range.first ? PRIVATE_KEY : undefined); // a continuation adds no second marker
      }
    };
    for (const i of order) {
      const start = starts[i] ?? 0;
      const end = ends[i] ?? 0;
      if (start < cursor || overlapsKey(start, end)) continue;
      flushKeysBefore(start);
      replace(start, end, types[i]);
    }
    flushKeysBefore(Infinity);
    parts.push(text.slice(cursor));
    return parts.join('');
  }
}

export const createMaskingStream = (options?: MaskingOptions): MaskingStream => new MaskingStream(options);

/** One-shot masking of a whole buffer. */
export function maskBuffer(input: Uint8Array, options?: MaskingOptions): { output: Buffer; metrics: DataMaskingMetrics } {
  const stream = new MaskingStream(options);
  const output = Buffer.concat([stream.write(input), stream.end()]);
  return { output, metrics: stream.metrics() };
}
