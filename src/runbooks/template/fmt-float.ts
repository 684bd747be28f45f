// Float formatting as Go's strconv.FormatFloat does it for the 'e', 'f' and 'g' formats:
// the shortest round-trip digits when no precision is given, otherwise the exact binary value
// rounded half to even (JS's toFixed rounds ties away from zero, so it is not used).

/** value = 0.digits × 10^dp, digits without trailing zeros ('' for zero). */
interface Decimal {
  digits: string;
  dp: number;
}

function shortestDecimal(value: number): Decimal {
  if (value === 0) return { digits: '', dp: 0 };
  const [mantissa = '', exponent = '0'] = value.toExponential().split('e');
  return trimZeros({ digits: mantissa.replace('.', ''), dp: Number(exponent) + 1 });
}

function exactDecimal(value: number): Decimal {
  if (value === 0) return { digits: '', dp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const bits = view.getBigUint64(0);
  const biasedExponent = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & ((1n << 52n) - 1n);
  let exponent = -1074;
  if (biasedExponent > 0) {
    mantissa |= 1n << 52n;
    exponent = biasedExponent - 1075;
  }
  // value = mantissa × 2^exponent; for a negative exponent that is mantissa × 5^-e / 10^-e.
  if (exponent >= 0) {
    const digits = (mantissa << BigInt(exponent)).toString();
    return trimZeros({ digits, dp: digits.length });
  }
  const digits = (mantissa * 5n ** BigInt(-exponent)).toString();
  return trimZeros({ digits, dp: digits.length + exponent });
}

function trimZeros(decimal: Decimal): Decimal {
  return { digits: decimal.digits.replace(/0+$/, ''), dp: decimal.dp };
}

/** Rounds to `count` significant digits, half to even like Go's decimal.Round. */
function roundDecimal(decimal: Decimal, count: number): Decimal {
  const { digits } = decimal;
  if (count < 0) return { digits: '', dp: 0 };
  if (count >= digits.length) return decimal;
  const next = digits.charCodeAt(count) - 48;
  const exactlyHalf = next === 5 && count + 1 === digits.length;
  const roundUp = exactlyHalf ? count > 0 && (digits.charCodeAt(count - 1) - 48) % 2 === 1 : next >= 5;
  if (!roundUp) return trimZeros({ digits: digits.slice(0, count), dp: decimal.dp });
  let i = count - 1;
  while (i >= 0 && digits[i] === '9') i--;
  if (i < 0) return { digits: '1', dp: decimal.dp + 1 };
  return { digits: digits.slice(0, i) + String.fromCharCode(digits.charCodeAt(i) + 1), dp: decimal.dp };
}

function formatExponent(decimal: Decimal, precision: number, e: 'e' | 'E'): string {
  const { digits } = decimal;
  let out = digits[0] ?? '0';
  if (precision > 0) out += `.${digits.slice(1, precision + 1).padEnd(precision, '0')}`;
  const exponent = digits.length === 0 ? 0 : decimal.dp - 1;
  const magnitude = Math.abs(exponent);
  return `${out}${e}${exponent < 0 ? '-' : '+'}${magnitude < 10 ? `0${magnitude}` : magnitude}`;
}

function formatFixed(decimal: Decimal, precision: number): string {
  const { digits, dp } = decimal;
  const integer = dp > 0 ? digits.slice(0, dp).padEnd(dp, '0') : '0';
  if (precision <= 0) return integer;
  let fraction = '';
  for (let i = 0; i < precision; i++) {
    const j = dp + i;
    fraction += j >= 0 && j < digits.length ? digits[j] : '0';
  }
  return `${integer}.${fraction}`;
}

/**
 * strconv.FormatFloat(value, format, precision, 64) for finite values; a negative precision
 * asks for the shortest representation that reads back as the same value.
 */
export function formatFloat(value: number, format: 'e' | 'E' | 'f' | 'g' | 'G', precision: number): string {
  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  const magnitude = Math.abs(value);
  const shortest = precision < 0;
  const e = format === 'E' || format === 'G' ? 'E' : 'e';
  if (format === 'e' || format === 'E') {
    const decimal = shortest ? shortestDecimal(magnitude) : roundDecimal(exactDecimal(magnitude), precision + 1);
    return sign + formatExponent(decimal, shortest ? Math.max(decimal.digits.length - 1, 0) : precision, e);
  }
  if (format === 'f') {
    const exact = exactDecimal(magnitude);
    const decimal = shortest ? shortestDecimal(magnitude) : roundDecimal(exact, exact.dp + precision);
    return sign + formatFixed(decimal, shortest ? Math.max(decimal.digits.length - decimal.dp, 0) : precision);
  }
  const wanted = precision === 0 ? 1 : precision;
  const decimal = shortest ? shortestDecimal(magnitude) : roundDecimal(exactDecimal(magnitude), wanted);
  const digitCount = decimal.digits.length;
  let digits = shortest ? digitCount : wanted;
  let exponentLimit = digits;
  if (exponentLimit > digitCount && digitCount >= decimal.dp) exponentLimit = digitCount;
  // Without a precision Go decides as if it were 6: 1e+06 but 100000.
  if (shortest) exponentLimit = 6;
  const exponent = decimal.dp - 1;
  if (exponent < -4 || exponent >= exponentLimit) {
    if (digits > digitCount) digits = digitCount;
    return sign + formatExponent(decimal, digits - 1, e);
  }
  if (digits > decimal.dp) digits = digitCount;
  return sign + formatFixed(decimal, Math.max(digits - decimal.dp, 0));
}
