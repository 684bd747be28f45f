// Number literals as Go's parse.NumberNode reads them, reduced to the value Go gives an untyped
// constant (an int, or a float64 when the literal is written with . e or E). Integers must fit
// in a JS safe integer, and hex floats (0x1p4) and imaginary literals are not supported.
import { goQuote, unquoteCharConstant } from './quote.js';
import { GoNumber, goInt } from './values.js';

const INTEGER_FORMS: readonly [RegExp, number][] = [
  [/^0[xX](_?[0-9a-fA-F])+$/, 16],
  [/^0[oO](_?[0-7])+$/, 8],
  [/^0[bB](_?[01])+$/, 2],
  [/^0(_?[0-7])+$/, 8],
  [/^(0|[1-9](_?[0-9])*)$/, 10],
];

const MAX_UINT64 = (1n << 64n) - 1n;
const MIN_INT64 = -(1n << 63n);

const DECIMAL_FLOAT = /^(?=\.?\d)(\d(_?\d)*)?(\.(\d(_?\d)*)?)?([eE][+-]?\d(_?\d)*)?$/;

/** strconv.ParseInt(text, 0, 64) without its range check. */
function parseInteger(text: string): bigint | undefined {
  const negative = text.startsWith('-');
  const unsigned = /^[+-]/.test(text) ? text.slice(1) : text;
  for (const [form, base] of INTEGER_FORMS) {
    if (!form.test(unsigned)) continue;
    let digits = unsigned.replaceAll('_', '');
    if (base !== 10) digits = digits.replace(/^0[xXoObB]?/, '');
    const prefix = base === 16 ? '0x' : base === 8 ? '0o' : base === 2 ? '0b' : '';
    const value = BigInt(prefix + (digits || '0'));
    return negative ? -value : value;
  }
  return undefined;
}

/** A number or character constant literal; throws an Error with Go's parse message. */
export function parseNumberLiteral(text: string, isCharConstant: boolean): GoNumber {
  if (isCharConstant) return goInt(unquoteCharConstant(text));
  const integer = parseInteger(text);
  if (integer !== undefined) {
    // Go's own limit is int64 (uint64 fails later, at execution); ours is the JS safe integer.
    if (integer > MAX_UINT64 || integer < MIN_INT64) throw new Error(`integer overflow: ${goQuote(text)}`);
    if (integer > BigInt(Number.MAX_SAFE_INTEGER) || integer < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new Error(`integer ${goQuote(text)} is outside the supported range`);
    }
    return goInt(Number(integer));
  }
  const unsigned = /^[+-]/.test(text) ? text.slice(1) : text;
  const float = DECIMAL_FLOAT.test(unsigned) ? Number(text.replaceAll('_', '')) : NaN;
  if (!Number.isFinite(float)) throw new Error(`illegal number syntax: ${goQuote(text)}`);
  // Go reads "089" as the float 89, then refuses an integer-looking literal it could not read as one.
  if (!/[.eE]/.test(text)) throw new Error(`integer overflow: ${goQuote(text)}`);
  return new GoNumber('float64', float);
}
