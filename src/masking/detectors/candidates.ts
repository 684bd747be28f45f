/**
 * Where each built-in regex could start a match, found in one pass over a unit.
 *
 * The regex engine looks for a match one position at a time, and a regex that starts with a digit
 * or a letter class cannot skip ahead the way one starting with a rare literal can: two dozen such
 * scans over every unit were most of the masking time. Walking the unit once in JS, noting token
 * and digit-run boundaries, narrows each regex to a handful of positions where it is then tried as
 * a sticky regex (`forEachAnchoredMatch` in ./regex-scan.ts).
 *
 * Every list is ascending and is a superset of the positions where its regex can match: a position
 * too many only costs a failed try, a position missing would be a missed value. The conditions
 * below are therefore deliberately loose, and the regexes keep the final word.
 */

export interface Candidates {
  /** A '@' (EMAIL_ADDRESS). */
  readonly atSigns: number[];
  /** A '+' (international PHONE_NUMBER). */
  readonly plusSigns: number[];
  /** Three digits, one of ` .-`, four or more digits: the exchange of a North American PHONE_NUMBER. */
  readonly phoneExchanges: number[];
  /** A '(' before exactly two digits and a ')': the area code of a Brazilian PHONE_NUMBER. */
  readonly areaCodesInParentheses: number[];
  /**
   * Token-start digit runs, by the run's length and the digits from there on, counting runs joined
   * by single ' ' or '-': 4+ and 13+ (a card), 2 or 15+ and 15+ (an IMEI), 3 and 9+ (an SSN).
   */
  readonly cardStarts: number[];
  readonly imeiStarts: number[];
  readonly ssnStarts: number[];
  /** `ddd.ddd.ddd-dd` shape (BRAZIL_CPF_NUMBER). */
  readonly cpfShapes: number[];
  /** Four dot-joined digit runs of at most three digits (IPv4). */
  readonly dottedQuads: number[];
  /** A ':' that may start `::` or `:h:h:h:` (IPv6 hint). */
  readonly ipv6Hints: number[];
  /** The last four digits of a 17-char token (VIN). */
  readonly vinTails: number[];
  /** Start of a token that may be a crypto address (legacy, segwit or Ethereum, by length and prefix). */
  readonly walletTokens: number[];
  /** Start of a token of two capitals and a digit (IBAN). */
  readonly ibanStarts: number[];
  /** Start of a token that may have a credential prefix (AKIA, ASIA, AIza, gh?_, github_pat_, xox, eyJ). */
  readonly credentialStarts: number[];
  /**
   * Start of a token that may begin a label of the detector named (any case); for cookieLabels
   * also the char after a backslash escape's letter that starts a token (`\nCookie`).
   */
  readonly dateOfBirthLabels: number[];
  readonly ssnLabels: number[];
  readonly cpfLabels: number[];
  readonly passportLabels: number[];
  readonly awsSecretLabels: number[];
  readonly cookieLabels: number[];
  /** A '://' or a token-start 'www' (URL). */
  readonly urlStarts: number[];
}

const TOKEN = 1; // [\w-]: the chars of the `(?<![\w-])` / `(?![\w-])` token boundaries the regexes use
const DIGIT = 2; // always with TOKEN
const MARK = 4; // '@', '+' or ':', each handled on its own
const CLASSES = new Uint8Array(256);
const HEX_DIGITS = new Uint8Array(256);
for (let code = 0; code < 256; code++) {
  const char = String.fromCharCode(code);
  CLASSES[code] = (/[\w-]/.test(char) ? TOKEN : 0) | (/\d/.test(char) ? DIGIT : 0) | (/[@+:]/.test(char) ? MARK : 0);
  HEX_DIGITS[code] = /[0-9A-Fa-f]/.test(char) ? 1 : 0;
}

const code = (char: string): number => char.charCodeAt(0);
const AT = code('@');
const PLUS = code('+');
const COLON = code(':');
const SLASH = code('/');
const DOT = code('.');
const DASH = code('-');
const SPACE = code(' ');
const NEWLINE = code('\n');
const CLOSE_PARENTHESIS = code(')');
const ZERO = code('0');
const ONE = code('1');
const THREE = code('3');
const X = code('x');

// The lists a token may belong to, judged by its first three chars: a token start costs one
// lookup in FIRST, and two more when its first char starts some prefix. Each position is checked
// on its own, so any mix of a list's prefixes passes too (a superset, as required).
const PREFIXED_LISTS = [
  'ibanStarts',
  'credentialStarts',
  'dateOfBirthLabels',
  'ssnLabels',
  'cpfLabels',
  'passportLabels',
  'awsSecretLabels',
  'cookieLabels',
  'urlStarts',
] as const;
const FIRST = new Uint16Array(256);
const SECOND = new Uint16Array(256);
const THIRD = new Uint16Array(256);
/** Lets a token into `list` when its first three chars are among `first`, `second` and `third`. */
function allowPrefix(list: (typeof PREFIXED_LISTS)[number], first: string, second: string, third: string): void {
  const bit = 1 << PREFIXED_LISTS.indexOf(list);
  for (const [table, chars] of [[FIRST, first], [SECOND, second], [THIRD, third]] as const) {
    for (const char of chars) table[code(char)] = (table[code(char)] ?? 0) | bit;
  }
}
const allowPrefixes = (list: (typeof PREFIXED_LISTS)[number], prefixes: readonly string[], anyCase = false): void => {
  const variants = (char: string): string => (anyCase ? char.toLowerCase() + char.toUpperCase() : char);
  for (const [first = '', second = '', third = ''] of prefixes) allowPrefix(list, variants(first), variants(second), variants(third));
};
const UPPER_CASE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
allowPrefix('ibanStarts', UPPER_CASE, UPPER_CASE, '0123456789');
// AKIA, ASIA, AIza, gh[pousr]_, github_pat_, xox[abposr]-, eyJ (see ./secrets.ts).
allowPrefixes('credentialStarts', ['AKI', 'ASI', 'AIz', 'ghp', 'gho', 'ghu', 'ghs', 'ghr', 'git', 'xox', 'eyJ']);
// The labels of ./date-of-birth.ts, ./national-ids.ts, ./secrets.ts and ./web.ts, in any case.
allowPrefixes('dateOfBirthLabels', ['dob', 'd.o', 'dat', 'bir', 'bor'], true);
allowPrefixes('ssnLabels', ['ssn', 'soc'], true);
allowPrefixes('cpfLabels', ['cpf'], true);
allowPrefixes('passportLabels', ['pas'], true);
allowPrefixes('awsSecretLabels', ['aws'], true);
allowPrefixes('cookieLabels', ['coo', 'set'], true);
allowPrefixes('urlStarts', ['www']);
const COOKIE_LABELS = 1 << PREFIXED_LISTS.indexOf('cookieLabels');

const MIN_GROUPED_DIGITS = 9; // an SSN; cards and IMEIs have more
const MIN_LONG_TOKEN = 14; // a segwit address; a VIN has 17 chars, a legacy address 26+, an Ethereum one 42
const VIN_LENGTH = 17;

let memo: { text: string; candidates: Candidates } | undefined;

/**
 * Candidates of `text`. Every built-in detector asks for the same unit in turn, so the last result
 * is kept (the Detector interface passes only the text).
 */
export function candidatesOf(text: string): Candidates {
  if (memo?.text !== text) memo = { text, candidates: findCandidates(text) };
  return memo.candidates;
}

const emptyLists = (): Candidates => ({
  atSigns: [],
  plusSigns: [],
  phoneExchanges: [],
  areaCodesInParentheses: [],
  cardStarts: [],
  imeiStarts: [],
  ssnStarts: [],
  cpfShapes: [],
  dottedQuads: [],
  ipv6Hints: [],
  vinTails: [],
  walletTokens: [],
  ibanStarts: [],
  credentialStarts: [],
  dateOfBirthLabels: [],
  ssnLabels: [],
  cpfLabels: [],
  passportLabels: [],
  awsSecretLabels: [],
  cookieLabels: [],
  urlStarts: [],
});

// Indexing bytes is faster than charCodeAt. Units are usually about a chunk long, so one buffer
// serves them all; a larger one gets its own rather than staying allocated.
const SCRATCH_BYTES = 256 * 1024;
const PADDING = 3; // '\n's after the text: the loop reads one, a token start looks two ahead
let scratch: Buffer | undefined;

function bytesOf(text: string): Buffer {
  const needed = text.length + PADDING;
  const bytes = needed <= SCRATCH_BYTES ? (scratch ??= Buffer.allocUnsafe(SCRATCH_BYTES)) : Buffer.allocUnsafe(needed);
  bytes.write(text, 0, 'latin1');
  bytes.fill(NEWLINE, text.length, needed);
  return bytes;
}

/**
 * The hot loop only tracks where the current token and digit run started; everything else runs
 * at a boundary whose first chars make a value possible, and looks back or ahead from there.
 */
function findCandidates(text: string): Candidates {
  const bytes = bytesOf(text);
  const found = emptyLists();
  const length = text.length + 1; // the first '\n' after the text closes the last token and digit run
  let tokenStart = -1;
  let digitStart = -1;
  // Digit runs joined by single ' ' or '-': a card, IMEI or SSN lies within one such group.
  let groupStart = -1;
  let groupEnd = -9;
  let groupDigits = 0;
  // IPv6 hints: the last three colons, newest first, and how many 1-4 hex digit groups end at the newest.
  let colon1 = -1;
  let colon2 = -1;
  let colon3 = -1;
  let hexGroups = 0;
  let previousClasses = 0;
  for (let i = 0; i < length; i++) {
    const byte = bytes[i] ?? 0;
    const classes = CLASSES[byte] ?? 0;
    // Only a change of class (letter to digit, token to blank, …) or a mark can start or end anything.
    if (classes === previousClasses && classes !== MARK) continue;
    previousClasses = classes;
    if (digitStart >= 0) {
      const separator = bytes[digitStart - 1] ?? 0;
      if (digitStart === groupEnd + 1 && (separator === SPACE || separator === DASH)) {
        groupEnd = i;
        groupDigits += i - digitStart;
      } else {
        if (groupDigits >= MIN_GROUPED_DIGITS) digitGroup(bytes, groupStart, groupEnd, groupDigits, found);
        groupStart = digitStart;
        groupEnd = i;
        groupDigits = i - digitStart;
      }
      if ((separator === DOT || separator === SPACE || separator === DASH) && isDigit(bytes, digitStart - 2)) {
        separatedDigits(bytes, separator, digitStart, i, found);
      }
      digitStart = -1;
    }
    if ((classes & TOKEN) !== 0) {
      if (tokenStart < 0) {
        tokenStart = i;
        const first = FIRST[byte] ?? 0;
        if (first !== 0) {
          const prefix = first & (SECOND[bytes[i + 1] ?? 0] ?? 0) & (THIRD[bytes[i + 2] ?? 0] ?? 0);
          if (prefix !== 0) tokenWithPrefix(i, prefix, found);
        }
      }
      if ((classes & DIGIT) !== 0) digitStart = i;
      continue;
    }
    if (tokenStart >= 0) {
      if (i - tokenStart >= MIN_LONG_TOKEN) longToken(bytes, tokenStart, i, found);
      tokenStart = -1;
    }
    if (classes !== MARK) continue;
    if (byte === AT) found.atSigns.push(i);
    else if (byte === PLUS) found.plusSigns.push(i);
    else {
      const next = bytes[i + 1];
      if (next === SLASH && bytes[i + 2] === SLASH) found.urlStarts.push(i);
      hexGroups = i - colon1 <= 5 && colon1 >= 0 && hexBetween(bytes, colon1 + 1, i) ? hexGroups + 1 : 0;
      // A hint found here starts three colons back, yet the list stays ascending: a '::' in
      // between would have broken the chain.
      if (hexGroups >= 3) found.ipv6Hints.push(colon3);
      if (next === COLON) found.ipv6Hints.push(i);
      colon3 = colon2;
      colon2 = colon1;
      colon1 = i;
    }
  }
  if (groupDigits >= MIN_GROUPED_DIGITS) digitGroup(bytes, groupStart, groupEnd, groupDigits, found);
  rareShapes(text, bytes, found);
  return found;
}

/**
 * Shapes led by a char too rare to cost a test in the loop above, found by searching for it:
 * a Brazilian area code `(dd)`, and a cookie label right after a backslash escape's letter (an
 * escaped dump, `…\r\nCookie: …`, where the letter and the label make one token).
 */
function rareShapes(text: string, bytes: Uint8Array, found: Candidates): void {
  for (let at = text.indexOf('('); at !== -1; at = text.indexOf('(', at + 1)) {
    if (isDigit(bytes, at + 1) && isDigit(bytes, at + 2) && bytes[at + 3] === CLOSE_PARENTHESIS) found.areaCodesInParentheses.push(at);
  }
  let escaped: number[] | undefined;
  for (let at = text.indexOf('\\'); at !== -1; at = text.indexOf('\\', at + 1)) {
    const label = at + 2;
    if (((CLASSES[bytes[at + 1] ?? 0] ?? 0) & TOKEN) === 0) continue;
    const prefix = (FIRST[bytes[label] ?? 0] ?? 0) & (SECOND[bytes[label + 1] ?? 0] ?? 0) & (THIRD[bytes[label + 2] ?? 0] ?? 0);
    if ((prefix & COOKIE_LABELS) !== 0) (escaped ??= []).push(label);
  }
  if (escaped !== undefined) {
    const merged = [...found.cookieLabels, ...escaped].sort((a, b) => a - b);
    found.cookieLabels.length = 0;
    found.cookieLabels.push(...merged);
  }
}

const isDigit = (bytes: Uint8Array, index: number): boolean => ((CLASSES[bytes[index] ?? 0] ?? 0) & DIGIT) !== 0;

/** Length of the digit run ending just before `end`. */
function digitsBefore(bytes: Uint8Array, end: number): number {
  let start = end;
  while (start > 0 && isDigit(bytes, start - 1)) start--;
  return end - start;
}

/** A token whose first three chars put it in the PREFIXED_LISTS of the bits of `lists`. */
function tokenWithPrefix(start: number, lists: number, found: Candidates): void {
  for (let bit = 0; bit < PREFIXED_LISTS.length; bit++) {
    const list = PREFIXED_LISTS[bit];
    if (list !== undefined && (lists & (1 << bit)) !== 0) found[list].push(start);
  }
}

/** A token of MIN_LONG_TOKEN chars or more. */
function longToken(bytes: Uint8Array, start: number, end: number, found: Candidates): void {
  const length = end - start;
  if (length === VIN_LENGTH && digitsBefore(bytes, end) >= 4) found.vinTails.push(end - 4);
  const first = bytes[start];
  if (
    ((first === ONE || first === THREE) && length >= 26 && length <= 35) ||
    (first === ZERO && bytes[start + 1] === X && length === 42) ||
    (bytes[start + 2] === ONE && length <= 74)
  ) {
    found.walletTokens.push(start);
  }
}

/** A digit run [start, end) right after a ' ', '.' or '-' that follows a digit. */
function separatedDigits(bytes: Uint8Array, separator: number, start: number, end: number, found: Candidates): void {
  const length = end - start;
  // ddd[ .-]dddd: the exchange and number of a North American phone number.
  if (length >= 4 && isDigit(bytes, start - 4) && !isDigit(bytes, start - 5) && digitsBefore(bytes, start - 1) === 3) {
    found.phoneExchanges.push(start - 4);
  }
  // d.d.d.d, one to three digits each: look back for the first three.
  if (separator === DOT && length <= 3 && isDigit(bytes, start - 2)) {
    let quadStart = start;
    for (let octets = 0; octets < 3 && quadStart >= 0; octets++) {
      const digits = bytes[quadStart - 1] === DOT ? digitsBefore(bytes, quadStart - 1) : 0;
      quadStart = digits >= 1 && digits <= 3 ? quadStart - digits - 1 : -1;
    }
    if (quadStart >= 0) found.dottedQuads.push(quadStart);
  }
  // ddd.ddd.ddd-dd
  if (separator === DASH && length >= 2 && bytes[start - 5] === DOT && bytes[start - 9] === DOT) {
    const dash = start - 1;
    if (digitsBefore(bytes, dash) === 3 && digitsBefore(bytes, dash - 4) === 3 && digitsBefore(bytes, dash - 8) === 3) found.cpfShapes.push(dash - 11);
  }
}

/** A group of digit runs joined by single ' ' or '-', with `digits` digits in all: see Candidates.cardStarts. */
function digitGroup(bytes: Uint8Array, start: number, end: number, digits: number, found: Candidates): void {
  let digitsBefore = 0;
  for (let i = start; i < end; i++) {
    if (!isDigit(bytes, i)) continue;
    const tokenStart = ((CLASSES[bytes[i - 1] ?? 0] ?? 0) & TOKEN) === 0;
    if (tokenStart) {
      const left = digits - digitsBefore;
      const run = runLength(bytes, i);
      if (run >= 4 && left >= 13) found.cardStarts.push(i);
      if ((run === 2 || run >= 15) && left >= 15) found.imeiStarts.push(i);
      if (run === 3 && left >= 9) found.ssnStarts.push(i);
    }
    digitsBefore++;
  }
}

/** Length of the digit run starting at `start`. */
function runLength(bytes: Uint8Array, start: number): number {
  let end = start;
  while (isDigit(bytes, end)) end++;
  return end - start;
}

/** Whether [start, end) is 1-4 hex digits. */
function hexBetween(bytes: Uint8Array, start: number, end: number): boolean {
  if (end === start) return false;
  for (let i = start; i < end; i++) if (HEX_DIGITS[bytes[i] ?? 0] === 0) return false;
  return true;
}
