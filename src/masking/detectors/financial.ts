/** CREDIT_CARD_NUMBER (brand prefix + length + Luhn) and IBAN_CODE (country length + mod 97). */
import type { Detector, Emit } from '../types.js';
import { ibanValid, luhnValid } from '../checksums.js';
import { anchoredRegex, forEachAnchoredMatch } from './regex-scan.js';

// Four digits at a token start, then single-digit steps: each `(?:[ -]?\d)` consumes exactly one
// digit, so there is one parse and the time is linear.
const CARD_CANDIDATE = anchoredRegex(/\d\d\d\d(?<=(?<![\w-])\d\d\d\d)(?:[ -]?\d){9,15}(?![\w-])/y, 'cardStarts');

function cardBrandMatches(digits: string): boolean {
  const length = digits.length;
  const two = Number(digits.slice(0, 2));
  const four = Number(digits.slice(0, 4));
  if (digits.startsWith('4')) return length === 13 || length === 16 || length === 19; // Visa
  if ((two >= 51 && two <= 55) || (four >= 2221 && four <= 2720)) return length === 16; // Mastercard
  if (two === 34 || two === 37) return length === 15; // Amex
  if (digits.startsWith('6011') || two === 65 || (four >= 6440 && four <= 6499)) return length >= 16; // Discover
  if (four >= 3528 && four <= 3589) return length >= 16; // JCB
  if (two === 36 || two === 38 || two === 39 || (four >= 3000 && four <= 3059)) return length >= 14; // Diners
  if (two === 62) return length >= 16; // UnionPay
  return false;
}

const isCard = (digits: string): boolean => cardBrandMatches(digits) && luhnValid(digits);

/**
 * A grouped candidate may carry a neighbouring number ("qty 2 4111 1111 1111 1111"): when the
 * whole run is not a card, try the longest run of whole groups that is.
 */
function emitCard(text: string, start: number, candidate: string, emit: Emit): void {
  const digits = candidate.replace(/[ -]/g, '');
  if (isCard(digits)) return emit(start, start + candidate.length, 'CREDIT_CARD_NUMBER');
  const separator = /[ -]/.exec(candidate)?.[0];
  if (separator === undefined) return;
  const groups = candidate.split(separator);
  for (let size = groups.length - 1; size >= 2; size--) {
    for (let first = 0; first + size <= groups.length; first++) {
      const window = groups.slice(first, first + size);
      if (!isCard(window.join('').replace(/[ -]/g, ''))) continue;
      const offset = groups.slice(0, first).join(separator).length + (first > 0 ? 1 : 0);
      return emit(start + offset, start + offset + window.join(separator).length, 'CREDIT_CARD_NUMBER');
    }
  }
}

const IBAN_LENGTHS: Record<string, number> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, CH: 21, CR: 22,
  CY: 28, CZ: 24, DE: 22, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27, GB: 22,
  GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IS: 26, IT: 27, JO: 30,
  KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, MC: 27, MD: 24, ME: 22, MK: 19,
  MR: 27, MT: 31, MU: 30, NL: 18, NO: 15, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22,
  SA: 24, SC: 31, SE: 24, SI: 19, SK: 24, SM: 27, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29,
  VA: 22, VG: 24, XK: 20,
};

// Country code and check digits, the token-start look-behind, then groups of four with an
// optional single space; every repetition is bounded, so failing candidates backtrack a constant
// amount.
const IBAN_CANDIDATE = anchoredRegex(/[A-Z][A-Z]\d\d(?<=(?<![\w-]).{4})(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![\w-])/y, 'ibanStarts');

export const financialDetector: Detector = {
  entityTypes: ['CREDIT_CARD_NUMBER', 'IBAN_CODE'],
  find(text, emit, wanted) {
    if (wanted.has('CREDIT_CARD_NUMBER')) forEachAnchoredMatch(CARD_CANDIDATE, text, (m) => emitCard(text, m.index, m[0], emit));
    if (!wanted.has('IBAN_CODE')) return;
    forEachAnchoredMatch(IBAN_CANDIDATE, text, (m) => {
      const iban = m[0].replace(/ /g, '');
      if (IBAN_LENGTHS[iban.slice(0, 2)] === iban.length && ibanValid(iban)) emit(m.index, m.index + m[0].length, 'IBAN_CODE');
    });
  },
};
