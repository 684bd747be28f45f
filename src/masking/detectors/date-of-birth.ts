/**
 * DATE_OF_BIRTH, only next to a label (`dob: 1990-01-02`, `"date_of_birth": "02/01/1990"`,
 * `born on March 3, 1985`): an unlabelled date is far more often a timestamp.
 */
import type { ColumnRule, Detector } from '../types.js';
import { anchoredRegex, forEachAnchoredMatch, labelPrefix, valueStart } from './regex-scan.js';

const LABELS = 'dob|d\\.o\\.b\\.?|date[ _-]?of[ _-]?birth|birth[ _-]?date|birthday|born(?:[ _]on)?';
// Alternatives are anchored on distinct shapes (digits first vs month name first), all bounded.
const DATE =
  '\\d{4}[-/.]\\d{1,2}[-/.]\\d{1,2}|\\d{1,2}[-/.]\\d{1,2}[-/.]\\d{2,4}|\\d{1,2} [A-Za-z]{3,9},? \\d{4}|[A-Za-z]{3,9}\\.? \\d{1,2},? \\d{4}';
const DOB = anchoredRegex(new RegExp(`${labelPrefix(LABELS)}(${DATE})(?![\\w-]|[-/.]\\d)`, 'iy'), 'dateOfBirthLabels');

/** A date in a column headed by one of the labels (../columns.ts). */
export const DATE_OF_BIRTH_COLUMN: ColumnRule = {
  entityType: 'DATE_OF_BIRTH',
  labels: LABELS,
  value: new RegExp(`^(?:${DATE})$`),
};

export const dateOfBirthDetector: Detector = {
  entityTypes: ['DATE_OF_BIRTH'],
  find(text, emit) {
    forEachAnchoredMatch(DOB, text, (m) => {
      const value = m[1] ?? '';
      emit(valueStart(m, value), m.index + m[0].length, 'DATE_OF_BIRTH');
    });
  },
};
