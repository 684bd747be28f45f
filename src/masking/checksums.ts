/**
 * Check-digit validators. They run only on regex candidates, never on the whole stream, so they
 * favour clarity over speed. Inputs are the candidate's characters with separators removed.
 */
import { createHash } from 'node:crypto';
import { keccak256Into } from './keccak.js';

const digitAt = (text: string, index: number): number => text.charCodeAt(index) - 48;

/** Luhn (mod 10) used by payment cards and IMEIs. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = digits.length - 1, double = false; i >= 0; i--, double = !double) {
    let d = digitAt(digits, i);
    if (double) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

/** ISO 13616 IBAN check: move the first four chars to the end, letters as 10..35, mod 97 = 1. */
export function ibanValid(iban: string): boolean {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const code = rearranged.charCodeAt(i);
    const value = code >= 65 ? code - 55 : code - 48;
    remainder = value >= 10 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97;
  }
  return remainder === 1;
}

/** The CPF check digit computed over the first `length` digits. */
function cpfCheckDigit(digits: string, length: number): number {
  let sum = 0;
  for (let i = 0; i < length; i++) sum += digitAt(digits, i) * (length + 1 - i);
  const rest = (sum * 10) % 11;
  return rest === 10 ? 0 : rest;
}

/** Brazilian CPF: two mod-11 check digits; repeated digits (000… 999…) are invalid by rule. */
export function cpfValid(digits: string): boolean {
  if (digits.length !== 11 || /^(\d)\1{10}$/.test(digits)) return false;
  return cpfCheckDigit(digits, 9) === digitAt(digits, 9) && cpfCheckDigit(digits, 10) === digitAt(digits, 10);
}

const VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
const VIN_LETTER_VALUES = 'ABCDEFGH.JKLMN.P.R..STUVWXYZ';
const vinValue = (char: string): number => {
  const code = char.charCodeAt(0);
  if (code <= 57) return code - 48;
  const index = VIN_LETTER_VALUES.indexOf(char); // A..H → 1..8, J..R → 1..9, S..Z → 2..9
  return index < 9 ? index + 1 : index < 18 ? index - 8 : index - 18;
};

/** ISO 3779 / North-American VIN check digit (9th char, 'X' means 10). */
export function vinValid(vin: string): boolean {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += vinValue(vin[i] ?? '0') * (VIN_WEIGHTS[i] ?? 0);
  const expected = sum % 11;
  return vin[8] === (expected === 10 ? 'X' : String(expected));
}

const sha256 = (data: Uint8Array): Buffer => createHash('sha256').update(data).digest();
const BASE58_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** Bitcoin legacy address: base58 of version byte + 20-byte hash + 4-byte double-SHA256 checksum. */
export function base58CheckValid(address: string): boolean {
  let value = 0n;
  for (const char of address) {
    const digit = BASE58_ALPHABET.indexOf(char);
    if (digit < 0) return false;
    value = value * 58n + BigInt(digit);
  }
  const bytes = new Uint8Array(25);
  for (let i = 24; i >= 0; i--, value >>= 8n) bytes[i] = Number(value & 0xffn);
  if (value !== 0n) return false; // more than 25 bytes
  const checksum = sha256(sha256(bytes.subarray(0, 21)));
  return checksum.subarray(0, 4).equals(bytes.subarray(21));
}

const BECH32_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const BECH32_GENERATORS = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

/** Segwit address (BIP-173 bech32 for v0, BIP-350 bech32m for v1+). */
export function bech32Valid(address: string): boolean {
  const lower = address.toLowerCase();
  if (lower !== address && address.toUpperCase() !== address) return false; // mixed case is invalid
  const separator = lower.lastIndexOf('1');
  const hrp = lower.slice(0, separator);
  const values: number[] = [];
  for (let i = 0; i < hrp.length; i++) values.push(hrp.charCodeAt(i) >> 5);
  values.push(0);
  for (let i = 0; i < hrp.length; i++) values.push(hrp.charCodeAt(i) & 31);
  for (const char of lower.slice(separator + 1)) {
    const value = BECH32_CHARSET.indexOf(char);
    if (value < 0) return false;
    values.push(value);
  }
  let checksum = 1;
  for (const value of values) {
    const top = checksum >>> 25;
    checksum = ((checksum & 0x1ffffff) << 5) ^ value;
    BECH32_GENERATORS.forEach((generator, bit) => {
      if ((top >>> bit) & 1) checksum ^= generator;
    });
  }
  const witnessVersion = values[hrp.length * 2 + 1];
  return checksum === (witnessVersion === 0 ? 1 : 0x2bc830a3);
}

const eip55Lower = new Uint8Array(40);
const eip55Hash = new Uint8Array(32);

/**
 * EIP-55: each hex letter is upper-case iff the matching nibble of keccak256(lower-case hex) ≥ 8.
 * Checks the 40 hex digits of `text` from `start` (the rest of `text`, which must be 40 long).
 * Allocates nothing and has no data-dependent branches: output can be nothing but addresses.
 */
export function eip55Valid(text: string, start = 0): boolean {
  if (text.length - start !== 40) return false;
  // Hex digits are 0x30-0x39, 0x41-0x46 (A-F), 0x61-0x66 (a-f): bit 0x40 marks a letter, 0x20 lower case.
  for (let i = 0; i < 40; i++) {
    const code = text.charCodeAt(start + i);
    eip55Lower[i] = code | ((code & 0x40) >> 1);
  }
  keccak256Into(eip55Lower, eip55Hash);
  let mismatches = 0;
  for (let i = 0; i < 40; i++) {
    const code = text.charCodeAt(start + i);
    const upper = (code >> 6) & ~(code >> 5) & 1;
    const hashBit = (eip55Hash[i >> 1]! >> ((i & 1) === 0 ? 7 : 3)) & 1; // the nibble is ≥ 8
    mismatches |= ((code >> 6) & 1) & (upper ^ hashBit);
  }
  return mismatches === 0;
}
