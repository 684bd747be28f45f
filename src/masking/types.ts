/**
 * Shared shapes of the masking engine. Everything works on latin1 ("binary") strings: one char per
 * byte, so offsets are byte offsets and `Buffer.from(text, 'latin1')` gives the exact input bytes
 * back. Detectors only look for ASCII, so non-ASCII bytes (UTF-8 continuation bytes included) are
 * opaque and never altered.
 */

/** Called by a detector for every value it finds: [start, end) byte offsets in the scanned text. */
export type Emit = (start: number, end: number, entityType: string) => void;

export interface Detector {
  /** Canonical entity types this detector can report (used to choose detectors). */
  readonly entityTypes: readonly string[];
  /**
   * Reports values found in `text`, which holds whole lines (or one piece of an over-long line).
   * Contract that makes any chunking give the same output: a value never spans '\n', and a '\n'
   * next to a value is treated exactly like the start or end of the text.
   */
  find(text: string, emit: Emit, wanted: ReadonlySet<string>): void;
}

/**
 * A labelled value that may also sit in a table column under its label (see ../columns.ts):
 * `labels` (a regex alternation, any case) must match the whole header cell, `value` the whole
 * (trimmed, unquoted) cell.
 */
export interface ColumnRule {
  readonly entityType: string;
  readonly labels: string;
  readonly value: RegExp;
  /** Check digits or ranges, given the cell's value. */
  readonly valid?: (value: string) => boolean;
}

/** A custom entity type as stored on a data-masking rule (`custom_entity_types`). */
export interface CustomEntityType {
  name: string;
  /** Python-flavoured (Presidio) regex; `(?P<name>…)` and a leading `(?i)` are translated. */
  regex?: string;
  deny_list?: string[];
  /** Accepted for compatibility with the rule shape; the engine has no scoring, so it is unused. */
  score?: number;
}

/** `metrics.data_masking` of a session, same shape as the reference API. */
export interface DataMaskingMetrics {
  err_count: number;
  info_types: Record<string, number>;
  total_redact_count: number;
  /** Bytes of input replaced by a redaction marker (the size of the values, not of the output). */
  transformed_bytes: number;
}

/** A redacted value: `length` input bytes from byte `offset` of the stream, reported as `entityType`. */
export interface Finding {
  offset: number;
  length: number;
  entityType: string;
}

export type MaskingMode = 'strict' | 'best-effort';

export interface MaskingOptions {
  /** Entity types to mask (GCP or Presidio spellings). Default: every built-in type. */
  entityTypes?: readonly string[];
  customEntityTypes?: readonly CustomEntityType[];
  /** `strict` (default): text scanned by a failing detector is withheld. `best-effort`: let through. */
  mode?: MaskingMode;
  /** Called for every redaction with its position in the input stream (never with the value). */
  onFinding?: (finding: Finding) => void;
  /** Additional detectors, run after the built-in ones (extension point; tests use it). */
  detectors?: readonly Detector[];
}
