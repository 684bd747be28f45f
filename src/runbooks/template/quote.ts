// The parts of Go's strconv the template engine needs: quoting values the way %q prints them,
// and unquoting string and character literals of the template language.
import { decodeBytes, encodeString, escapedByteAt } from './bytes.js';

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** Go's strconv.IsPrint. */
export function isPrint(cp: number): boolean {
  if (cp === 0x20) return true;
  if (cp < 0x20 || cp === 0x7f || cp > 0x10ffff) return false;
  return PRINTABLE.test(String.fromCodePoint(cp));
}

export function runeCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

const SIMPLE_ESCAPES: ReadonlyMap<number, string> = new Map([
  [7, '\\a'], [8, '\\b'], [12, '\\f'], [10, '\\n'], [13, '\\r'], [9, '\\t'], [11, '\\v'],
]);

function hex(value: number, digits: number): string {
  return value.toString(16).padStart(digits, '0');
}

function escapeRune(cp: number, quote: string, asciiOnly: boolean): string {
  const ch = String.fromCodePoint(cp);
  if (ch === quote || ch === '\\') return `\\${ch}`;
  if (asciiOnly ? cp < 0x80 && isPrint(cp) : isPrint(cp)) return ch;
  const simple = SIMPLE_ESCAPES.get(cp);
  if (simple) return simple;
  if (cp < 0x20 || cp === 0x7f) return `\\x${hex(cp, 2)}`;
  if (cp >= 0xd800 && cp <= 0xdfff) return '\\ufffd';
  return cp < 0x10000 ? `\\u${hex(cp, 4)}` : `\\U${hex(cp, 8)}`;
}

/** strconv.Quote (or QuoteToASCII): invalid bytes print as \xNN. */
export function goQuote(text: string, asciiOnly = false): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const byte = escapedByteAt(text, i);
    if (byte !== undefined) {
      out += `\\x${hex(byte, 2)}`;
      continue;
    }
    const cp = text.codePointAt(i) ?? 0;
    if (cp > 0xffff) i++;
    out += escapeRune(cp, '"', asciiOnly);
  }
  return `${out}"`;
}

/** strconv.QuoteRune (or QuoteRuneToASCII). */
export function goQuoteRune(cp: number, asciiOnly = false): string {
  const valid = cp >= 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
  return `'${escapeRune(valid ? cp : 0xfffd, "'", asciiOnly)}'`;
}

/** strconv.CanBackquote. */
export function canBackquote(text: string): boolean {
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '`' || cp === 0xfeff || (cp < 0x20 && cp !== 9) || cp === 0x7f || (cp >= 0xd800 && cp <= 0xdfff)) return false;
  }
  return true;
}

/** fmt's %#U: U+0041 'A' (the character only when printable). */
export function formatRuneU(cp: number): string {
  const code = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return isPrint(cp) ? `${code} '${String.fromCodePoint(cp)}'` : code;
}

export class UnquoteError extends Error {
  constructor() {
    super('invalid syntax');
  }
}

interface UnquotedChar {
  /** A code point, or a raw byte value when `isByte`. */
  value: number;
  isByte: boolean;
  next: number;
}

function hexDigits(text: string, from: number, count: number): number {
  const digits = text.slice(from, from + count);
  if (digits.length !== count || !/^[0-9a-fA-F]+$/.test(digits)) throw new UnquoteError();
  return parseInt(digits, 16);
}

/** strconv.UnquoteChar: decodes one character or escape of a literal quoted with `quote`. */
function unquoteChar(text: string, i: number, quote: string): UnquotedChar {
  const ch = text[i];
  if (ch === undefined || ch === quote) throw new UnquoteError();
  if (ch !== '\\') {
    if (escapedByteAt(text, i) !== undefined) return { value: 0xfffd, isByte: false, next: i + 1 };
    const cp = text.codePointAt(i) ?? 0;
    return { value: cp, isByte: false, next: i + (cp > 0xffff ? 2 : 1) };
  }
  const escape = text[i + 1];
  const simple = escape === undefined ? undefined : 'abfnrtv'.indexOf(escape);
  if (simple !== undefined && simple >= 0) return { value: [7, 8, 12, 10, 13, 9, 11][simple] ?? 0, isByte: false, next: i + 2 };
  switch (escape) {
    case '\\':
      return { value: 0x5c, isByte: false, next: i + 2 };
    case "'":
    case '"':
      if (escape !== quote) throw new UnquoteError();
      return { value: escape.charCodeAt(0), isByte: false, next: i + 2 };
    case 'x':
      return { value: hexDigits(text, i + 2, 2), isByte: true, next: i + 4 };
    case 'u':
    case 'U': {
      const length = escape === 'u' ? 4 : 8;
      const cp = hexDigits(text, i + 2, length);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new UnquoteError();
      return { value: cp, isByte: false, next: i + 2 + length };
    }
    default: {
      const octal = text.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(octal)) throw new UnquoteError();
      const value = parseInt(octal, 8);
      if (value > 255) throw new UnquoteError();
      return { value, isByte: true, next: i + 4 };
    }
  }
}

/** strconv.Unquote for "..." and `...` literals. */
export function unquoteString(literal: string): string {
  const quote = literal[0];
  const body = literal.slice(1, -1);
  if (quote === '`') return body.replaceAll('\r', '');
  if (!body.includes('\\')) return body.replace(/(?<![\uD800-\uDBFF])[\uDC80-\uDCFF]/g, '\uFFFD');
  const parts: Buffer[] = [];
  for (let i = 0; i < body.length;) {
    const unquoted = unquoteChar(body, i, '"');
    parts.push(unquoted.isByte ? Buffer.of(unquoted.value) : encodeString(String.fromCodePoint(unquoted.value)));
    i = unquoted.next;
  }
  // \x and octal escapes are bytes: together they may spell a multi-byte character.
  return decodeBytes(Buffer.concat(parts));
}

/** The code point of a character constant such as 'a' or '\n'. */
export function unquoteCharConstant(literal: string): number {
  const unquoted = unquoteChar(literal, 1, "'");
  if (unquoted.next !== literal.length - 1) throw new Error(`malformed character constant: ${literal}`);
  return unquoted.value;
}
