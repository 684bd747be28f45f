/**
 * US_SOCIAL_SECURITY_NUMBER, BRAZIL_CPF_NUMBER and US_PASSPORT. Unformatted digit runs are too
 * often order ids, so an SSN or CPF without its usual separators, and any passport number, is only
 * taken next to a label (`ssn: 123456789`, `cpf=12345678909`, `passport no. 123456789`).
 */
import type { ColumnRule, Detector } from '../types.js';
import { cpfValid } from '../checksums.js';
import { anchoredRegex, forEachAnchoredMatch, labelPrefix, valueStart } from './regex-scan.js';

// A whole token; the back-reference forces both separators to be the same ('-' or ' ').
const SSN_FORMATTED = anchoredRegex(/\d\d\d([- ])\d\d\1\d\d\d\d(?<=(?<![\w-]).{11})(?![\w-])/y, 'ssnStarts');
const SSN_LABELS = 'ssn|social[ _-]security(?:[ _-]?(?:number|no))?';
const SSN_LABELLED = anchoredRegex(new RegExp(`${labelPrefix(SSN_LABELS)}(\\d{9})(?![\\w-])`, 'iy'), 'ssnLabels');

/** SSA rules: area not 000, 666 or 9xx; group not 00; serial not 0000. */
const ssnValid = (digits: string): boolean =>
  !/^(?:000|666|9)/.test(digits) && digits.slice(3, 5) !== '00' && digits.slice(5) !== '0000';

const CPF_FORMATTED = anchoredRegex(/\d\d\d\.\d\d\d\.(?<=(?<![\w.-]).{8})\d{3}-\d{2}(?![\w-]|\.\d)/y, 'cpfShapes');
const CPF_LABELLED = anchoredRegex(new RegExp(`${labelPrefix('cpf')}(\\d{11})(?![\\w-])`, 'iy'), 'cpfLabels');

const PASSPORT_LABELS = 'passport(?:[ _-]?(?:number|num|no\\.?|id|#))?';
const PASSPORT_LABELLED = anchoredRegex(
  new RegExp(`${labelPrefix(PASSPORT_LABELS)}([A-Za-z]\\d{8}|\\d{9})(?![\\w-])`, 'iy'),
  'passportLabels',
);

const digitsOf = (value: string): string => value.replace(/\D/g, '');

/** The same values in a column headed by the label (../columns.ts), with or without separators. */
export const NATIONAL_ID_COLUMNS: readonly ColumnRule[] = [
  {
    entityType: 'US_SOCIAL_SECURITY_NUMBER',
    labels: SSN_LABELS,
    value: /^(?:\d{9}|\d{3}-\d{2}-\d{4}|\d{3} \d{2} \d{4})$/,
    valid: (value) => ssnValid(digitsOf(value)),
  },
  {
    entityType: 'BRAZIL_CPF_NUMBER',
    labels: 'cpf',
    value: /^(?:\d{11}|\d{3}\.\d{3}\.\d{3}-\d{2})$/,
    valid: (value) => cpfValid(digitsOf(value)),
  },
  { entityType: 'US_PASSPORT', labels: PASSPORT_LABELS, value: /^(?:[A-Za-z]\d{8}|\d{9})$/ },
];

export const nationalIdDetector: Detector = {
  entityTypes: ['US_SOCIAL_SECURITY_NUMBER', 'BRAZIL_CPF_NUMBER', 'US_PASSPORT'],
  find(text, emit, wanted) {
    if (wanted.has('US_SOCIAL_SECURITY_NUMBER')) {
      forEachAnchoredMatch(SSN_FORMATTED, text, (m) => {
        if (ssnValid(m[0].replace(/\D/g, ''))) emit(m.index, m.index + m[0].length, 'US_SOCIAL_SECURITY_NUMBER');
      });
      forEachAnchoredMatch(SSN_LABELLED, text, (m) => {
        const value = m[1] ?? '';
        if (ssnValid(value)) emit(valueStart(m, value), m.index + m[0].length, 'US_SOCIAL_SECURITY_NUMBER');
      });
    }
    if (wanted.has('BRAZIL_CPF_NUMBER')) {
      forEachAnchoredMatch(CPF_FORMATTED, text, (m) => {
        if (cpfValid(m[0].replace(/\D/g, ''))) emit(m.index, m.index + m[0].length, 'BRAZIL_CPF_NUMBER');
      });
      forEachAnchoredMatch(CPF_LABELLED, text, (m) => {
        const value = m[1] ?? '';
        if (cpfValid(value)) emit(valueStart(m, value), m.index + m[0].length, 'BRAZIL_CPF_NUMBER');
      });
    }
    if (wanted.has('US_PASSPORT')) {
      forEachAnchoredMatch(PASSPORT_LABELLED, text, (m) => {
        const value = m[1] ?? '';
        emit(valueStart(m, value), m.index + m[0].length, 'US_PASSPORT');
      });
    }
  },
};
