// Go templates work on bytes, so a runbook may hold bytes that are not valid UTF-8 and they
// reach the script unchanged. We work on JS strings and keep such bytes as lone surrogates
// U+DC80..U+DCFF (the "surrogateescape" scheme): each invalid byte b becomes U+DC00+b and is
// turned back into the raw byte when the text is encoded again.
import { isUtf8 } from 'node:buffer';

const ESCAPE_BASE = 0xdc00;
const LONE_ESCAPE = /(?<![\uD800-\uDBFF])[\uDC80-\uDCFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Decodes UTF-8; each byte that does not start a valid sequence becomes U+DC00+byte. */
export function decodeBytes(bytes: Uint8Array): string {
  if (isUtf8(bytes)) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  let text = '';
  let runStart = 0;
  let i = 0;
  while (i < bytes.length) {
    const width = validSequenceLength(bytes, i);
    if (width > 0) {
      i += width;
      continue;
    }
    text += Buffer.from(bytes.subarray(runStart, i)).toString('utf8') + String.fromCharCode(ESCAPE_BASE + (bytes[i] ?? 0));
    i += 1;
    runStart = i;
  }
  return text + Buffer.from(bytes.subarray(runStart)).toString('utf8');
}

/** The length of the valid UTF-8 sequence at `i` (Go's utf8.DecodeRune rules), or 0. */
function validSequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i] ?? 0;
  if (b0 < 0x80) return 1;
  const continuation = (k: number, low = 0x80, high = 0xbf): boolean => {
    const b = bytes[i + k];
    return b !== undefined && b >= low && b <= high;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) return continuation(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    // E0 must not be overlong, ED must not encode a surrogate.
    const low = b0 === 0xe0 ? 0xa0 : 0x80;
    const high = b0 === 0xed ? 0x9f : 0xbf;
    return continuation(1, low, high) && continuation(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const low = b0 === 0xf0 ? 0x90 : 0x80;
    const high = b0 === 0xf4 ? 0x8f : 0xbf;
    return continuation(1, low, high) && continuation(2) && continuation(3) ? 4 : 0;
  }
  return 0;
}

/** Encodes as UTF-8, turning escaped bytes (see decodeBytes) back into the raw bytes. */
export function encodeString(text: string): Buffer {
  if (!LONE_ESCAPE.test(text)) return Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  let runStart = 0;
  for (let i = 0; i < text.length; i++) {
    const byte = escapedByteAt(text, i);
    if (byte === undefined) continue;
    parts.push(Buffer.from(text.slice(runStart, i), 'utf8'), Buffer.of(byte));
    runStart = i + 1;
  }
  parts.push(Buffer.from(text.slice(runStart), 'utf8'));
  return Buffer.concat(parts);
}

/** The raw byte an escape at `i` stands for, or undefined when text[i] is not an escape. */
export function escapedByteAt(text: string, i: number): number | undefined {
  const unit = text.charCodeAt(i);
  if (unit < 0xdc80 || unit > 0xdcff) return undefined;
  const previous = i > 0 ? text.charCodeAt(i - 1) : 0;
  if (previous >= 0xd800 && previous <= 0xdbff) return undefined;
  return unit - ESCAPE_BASE;
}

/** Go's len(string): the number of UTF-8 bytes, an escaped byte counting as one. */
export function byteLength(text: string): number {
  const length = Buffer.byteLength(text, 'utf8');
  if (!LONE_ESCAPE.test(text)) return length;
  let escapes = 0;
  for (let i = 0; i < text.length; i++) if (escapedByteAt(text, i) !== undefined) escapes++;
  // Buffer.byteLength counts each lone surrogate as the 3-byte replacement character.
  return length - 2 * escapes;
}

/**
 * Parameter values arrive as JSON, where Go replaces lone surrogates by U+FFFD; doing the same
 * here also keeps them from being mistaken for escaped template bytes.
 */
export function toWellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}
