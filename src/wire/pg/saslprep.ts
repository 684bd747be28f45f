/**
 * SASLprep (RFC 4013) the way PostgreSQL applies it to SCRAM passwords (src/common/saslprep.c),
 * so that the password the agent hashes matches the verifier the server stored:
 *
 * - pure ASCII passwords are used as they are (the common case; PostgreSQL does the same);
 * - otherwise non-ASCII spaces (RFC 3454 C.1.2) become U+0020, "commonly mapped to nothing"
 *   characters (B.1) are removed and the result is NFKC-normalized;
 * - if the result contains a prohibited character (C.2-C.9), PostgreSQL falls back to the raw
 *   password, and so do we.
 *
 * Not done: the check for code points unassigned in Unicode 3.2 (A.1) and the bidirectional
 * rule (RFC 3454 §6); JavaScript has no tables for either. Where PostgreSQL would fall back to
 * the raw password for those reasons, this returns the normalized form, which differs only if
 * normalization changed something; a password mixing right-to-left and left-to-right letters
 * together with compatibility characters can therefore fail SCRAM through the gateway.
 */
export function pgSaslprep(password: string): string {
  if (/^[\x00-\x7f]*$/.test(password)) return password;
  let mapped = '';
  for (const char of password) {
    const code = char.codePointAt(0)!;
    if (inRanges(code, NON_ASCII_SPACE)) mapped += ' ';
    else if (!inRanges(code, MAPPED_TO_NOTHING)) mapped += char;
  }
  const normalized = mapped.normalize('NFKC');
  for (const char of normalized) {
    if (inRanges(char.codePointAt(0)!, PROHIBITED)) return password;
  }
  // An unpaired surrogate survives normalize() and would not be valid UTF-8 on the wire.
  if (/[\ud800-\udfff]/u.test(normalized)) return password;
  return normalized;
}

type Ranges = readonly (readonly [number, number])[];

function inRanges(code: number, ranges: Ranges): boolean {
  return ranges.some(([low, high]) => code >= low && code <= high);
}

/** RFC 3454 C.1.2 (PostgreSQL's non_ascii_space_ranges). */
const NON_ASCII_SPACE: Ranges = [
  [0x00a0, 0x00a0],
  [0x1680, 0x1680],
  [0x2000, 0x200b],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
];

/** RFC 3454 B.1. */
const MAPPED_TO_NOTHING: Ranges = [
  [0x00ad, 0x00ad],
  [0x034f, 0x034f],
  [0x1806, 0x1806],
  [0x180b, 0x180d],
  [0x200b, 0x200d],
  [0x2060, 0x2060],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff],
];

/** RFC 3454 C.1.2, C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.7, C.8, C.9. */
const PROHIBITED: Ranges = [
  ...NON_ASCII_SPACE,
  [0x0000, 0x001f],
  [0x007f, 0x009f],
  [0x0340, 0x0341],
  [0x06dd, 0x06dd],
  [0x070f, 0x070f],
  [0x180e, 0x180e],
  [0x200c, 0x200f],
  [0x2028, 0x202e],
  [0x2060, 0x2063],
  [0x206a, 0x206f],
  [0x2ff0, 0x2ffb],
  [0xd800, 0xdfff],
  [0xe000, 0xf8ff],
  [0xfdd0, 0xfdef],
  [0xfeff, 0xfeff],
  [0xfff9, 0xffff],
  [0x1d173, 0x1d17a],
  [0x1fffe, 0x1ffff],
  [0x2fffe, 0x2ffff],
  [0x3fffe, 0x3ffff],
  [0x4fffe, 0x4ffff],
  [0x5fffe, 0x5ffff],
  [0x6fffe, 0x6ffff],
  [0x7fffe, 0x7ffff],
  [0x8fffe, 0x8ffff],
  [0x9fffe, 0x9ffff],
  [0xafffe, 0xaffff],
  [0xbfffe, 0xbffff],
  [0xcfffe, 0xcffff],
  [0xdfffe, 0xdffff],
  [0xe0001, 0xe0001],
  [0xe0020, 0xe007f],
  [0xefffe, 0xeffff],
  [0xf0000, 0xffffd],
  [0xffffe, 0xfffff],
  [0x100000, 0x10ffff],
];
