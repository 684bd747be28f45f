// Go's fmt for the values a template can hold: Sprint, Sprintln and Sprintf with flags
// (# 0 + - space), width, precision (also as *) and the verbs v s q x X d b o O c U t e E f F g G T.
// %[n] argument indexes are not supported, nor %b/%x on floats (they print as a bad verb).
import { encodeString } from './bytes.js';
import { formatFloat } from './fmt-float.js';
import { canBackquote, goQuote, goQuoteRune, isPrint, runeCount } from './quote.js';
import { GoNumber, NO_VALUE, StringMap, typeName, type Value } from './values.js';

interface FormatSpec {
  sharp: boolean;
  zero: boolean;
  plus: boolean;
  minus: boolean;
  space: boolean;
  width: number | undefined;
  precision: number | undefined;
}

const PLAIN: FormatSpec = { sharp: false, zero: false, plus: false, minus: false, space: false, width: undefined, precision: undefined };

/** fmt refuses widths and precisions beyond this. */
const MAX_WIDTH = 1e6;

function pad(text: string, spec: FormatSpec, zeroAllowed = true): string {
  if (spec.width === undefined) return text;
  const missing = spec.width - runeCount(text);
  if (missing <= 0) return text;
  if (spec.minus) return text + ' '.repeat(missing);
  return (spec.zero && zeroAllowed ? '0' : ' ').repeat(missing) + text;
}

function truncate(text: string, spec: FormatSpec): string {
  if (spec.precision === undefined || runeCount(text) <= spec.precision) return text;
  return Array.from(text).slice(0, spec.precision).join('');
}

function badVerb(verb: string, arg: Value, spec: FormatSpec): string {
  if (arg === NO_VALUE) return `%!${verb}(<nil>)`;
  return `%!${verb}(${typeName(arg)}=${formatArg(arg, 'v', spec)})`;
}

function formatString(text: string, verb: string, spec: FormatSpec): string {
  switch (verb) {
    case 'v':
      return spec.sharp ? pad(goQuote(text), spec) : pad(truncate(text, spec), spec);
    case 's':
      return pad(truncate(text, spec), spec);
    case 'q': {
      const truncated = truncate(text, spec);
      if (spec.sharp && canBackquote(truncated)) return pad(`\`${truncated}\``, spec);
      return pad(goQuote(truncated, spec.plus), spec);
    }
    case 'x':
    case 'X':
      return formatHexBytes(text, verb, spec);
    default:
      return badVerb(verb, text, spec);
  }
}

function formatHexBytes(text: string, verb: 'x' | 'X', spec: FormatSpec): string {
  let bytes = encodeString(text);
  if (spec.precision !== undefined && spec.precision < bytes.length) bytes = bytes.subarray(0, spec.precision);
  const prefix = spec.sharp ? `0${verb}` : '';
  const pairs = [...bytes].map((byte) => {
    const pair = byte.toString(16).padStart(2, '0');
    return verb === 'X' ? pair.toUpperCase() : pair;
  });
  // "% x" separates the bytes (each with its own 0x under "% #x"); "%#x" prefixes the whole.
  const hex = spec.space ? pairs.map((pair) => prefix + pair).join(' ') : prefix + pairs.join('');
  return pad(pairs.length === 0 ? '' : hex, spec);
}

function formatInteger(value: number, verb: string, spec: FormatSpec): string {
  const base = verb === 'b' ? 2 : verb === 'o' || verb === 'O' ? 8 : verb === 'x' || verb === 'X' ? 16 : 10;
  const negative = value < 0;
  const magnitude = Math.abs(value);
  let minDigits = 0;
  if (spec.precision !== undefined) {
    // Precision 0 prints nothing for zero, only padding.
    if (spec.precision === 0 && magnitude === 0) return pad('', spec, false);
    minDigits = spec.precision;
  } else if (spec.zero && !spec.minus && spec.width !== undefined) {
    minDigits = spec.width - (negative || spec.plus || spec.space ? 1 : 0);
  }
  let digits = magnitude.toString(base).padStart(minDigits, '0');
  if (verb === 'X') digits = digits.toUpperCase();
  if (spec.sharp) {
    if (base === 2) digits = `0b${digits}`;
    else if (base === 8 && !digits.startsWith('0')) digits = `0${digits}`;
    else if (base === 16) digits = `0${verb}${digits}`;
  }
  if (verb === 'O') digits = `0o${digits}`;
  const sign = negative ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
  return pad(sign + digits, spec, false);
}

function formatUnicode(value: number, spec: FormatSpec): string {
  const minDigits = Math.max(spec.precision ?? 0, 4);
  let text = `U+${Math.abs(value).toString(16).toUpperCase().padStart(minDigits, '0')}`;
  if (spec.sharp && isPrint(value)) text += ` '${String.fromCodePoint(value)}'`;
  return pad(text, spec, false);
}

function validRune(value: number): number {
  return value < 0 || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff) ? 0xfffd : value;
}

function formatIntegerVerb(number: GoNumber, verb: string, spec: FormatSpec): string {
  const value = number.value;
  switch (verb) {
    case 'v':
    case 'd':
    case 'b':
    case 'o':
    case 'O':
    case 'x':
    case 'X':
      return formatInteger(value, verb, spec);
    case 'c':
      return pad(String.fromCodePoint(validRune(value)), spec);
    case 'q': {
      const rune = validRune(value);
      if (spec.sharp && isPrint(rune)) return pad(`'${String.fromCodePoint(rune)}'`, spec);
      return pad(goQuoteRune(rune, spec.plus), spec);
    }
    case 'U':
      return formatUnicode(value, spec);
    default:
      return badVerb(verb, number, spec);
  }
}

function formatFloatVerb(number: GoNumber, verb: string, spec: FormatSpec): string {
  let format: 'e' | 'E' | 'f' | 'g' | 'G';
  let precision: number;
  if (verb === 'v' || verb === 'g' || verb === 'G') {
    format = verb === 'G' ? 'G' : 'g';
    precision = spec.precision ?? -1;
  } else if (verb === 'e' || verb === 'E' || verb === 'f' || verb === 'F') {
    format = verb === 'F' ? 'f' : verb;
    precision = spec.precision ?? 6;
  } else {
    return badVerb(verb, number, spec);
  }
  const text = formatFloat(number.value, format, precision);
  const signed = text.startsWith('-') ? text : `${spec.plus ? '+' : spec.space ? ' ' : ''}${text}`;
  // Zero padding goes between the sign and the digits.
  const hasSign = /^[-+ ]/.test(signed);
  if (hasSign && spec.zero && !spec.minus && spec.width !== undefined && spec.width > signed.length) {
    return signed[0] + '0'.repeat(spec.width - signed.length) + signed.slice(1);
  }
  return pad(signed, spec);
}

function formatMap(map: StringMap, verb: string, spec: FormatSpec): string {
  if (verb === 'v' && spec.sharp) {
    const entries = map.sortedKeys.map((key) => `${goQuote(key)}:${goQuote(map.entries.get(key) ?? '')}`);
    return `map[string]string{${entries.join(', ')}}`;
  }
  const entries = map.sortedKeys.map((key) => `${formatArg(key, verb, spec)}:${formatArg(map.entries.get(key) ?? '', verb, spec)}`);
  return `map[${entries.join(' ')}]`;
}

/** fmt's printArg: one operand under one verb. NO_VALUE stands for a nil interface. */
function formatArg(arg: Value, verb: string, spec: FormatSpec): string {
  if (verb === 'T') return pad(arg === NO_VALUE ? '<nil>' : typeName(arg), spec);
  if (arg === NO_VALUE) return verb === 'v' ? pad('<nil>', spec) : badVerb(verb, arg, spec);
  if (typeof arg === 'string') return formatString(arg, verb, spec);
  if (typeof arg === 'boolean') return verb === 'v' || verb === 't' ? pad(String(arg), spec) : badVerb(verb, arg, spec);
  if (arg instanceof GoNumber) return arg.type === 'float64' ? formatFloatVerb(arg, verb, spec) : formatIntegerVerb(arg, verb, spec);
  return formatMap(arg, verb, spec);
}

/** How an action prints a value (fmt.Fprint of one operand). */
export function formatValue(value: Value): string {
  return formatArg(value, 'v', PLAIN);
}

/** fmt.Sprint: a space between operands when neither is a string. */
export function sprint(args: readonly Value[]): string {
  let out = '';
  let previousIsString = false;
  args.forEach((arg, i) => {
    const isString = typeof arg === 'string';
    if (i > 0 && !isString && !previousIsString) out += ' ';
    out += formatValue(arg);
    previousIsString = isString;
  });
  return out;
}

/** fmt.Sprintln: spaces between all operands and a newline. */
export function sprintln(args: readonly Value[]): string {
  return `${args.map(formatValue).join(' ')}\n`;
}

class FormatReader {
  i = 0;
  argIndex = 0;
  constructor(readonly format: string, readonly args: readonly Value[]) {}

  /** A decimal number at the cursor; undefined when absent. Like fmt, a too large one ends the format. */
  number(): number | undefined {
    const match = /^\d+/.exec(this.format.slice(this.i));
    if (!match) return undefined;
    const value = Number(match[0]);
    if (value > MAX_WIDTH) {
      this.i = this.format.length;
      return undefined;
    }
    this.i += match[0].length;
    return value;
  }

  /** A * operand; undefined when it is missing or not an integer. */
  intArg(): number | undefined {
    const arg = this.args[this.argIndex];
    if (arg === undefined) return undefined;
    this.argIndex++;
    return arg instanceof GoNumber && arg.type !== 'float64' && Math.abs(arg.value) <= MAX_WIDTH ? arg.value : undefined;
  }
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: readonly Value[]): string {
  const reader = new FormatReader(format, args);
  let out = '';
  while (reader.i < format.length) {
    const percent = format.indexOf('%', reader.i);
    if (percent < 0) {
      out += format.slice(reader.i);
      break;
    }
    out += format.slice(reader.i, percent);
    reader.i = percent + 1;
    const spec: FormatSpec = { ...PLAIN };
    for (let flag = format[reader.i]; flag !== undefined && '#0+- '.includes(flag); flag = format[++reader.i]) {
      if (flag === '#') spec.sharp = true;
      else if (flag === '0') spec.zero = true;
      else if (flag === '+') spec.plus = true;
      else if (flag === '-') spec.minus = true;
      else spec.space = true;
    }
    if (format[reader.i] === '*') {
      reader.i++;
      const width = reader.intArg();
      if (width === undefined) out += '%!(BADWIDTH)';
      else if (width < 0) {
        spec.width = -width;
        spec.minus = true;
      } else spec.width = width;
    } else {
      spec.width = reader.number();
    }
    if (format[reader.i] === '.' && reader.i + 1 < format.length) {
      reader.i++;
      if (format[reader.i] === '*') {
        reader.i++;
        const precision = reader.intArg();
        if (precision === undefined || precision < 0) out += '%!(BADPREC)';
        else spec.precision = precision;
      } else {
        spec.precision = reader.number() ?? 0;
      }
    }
    const verbPoint = format.codePointAt(reader.i);
    if (verbPoint === undefined) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(verbPoint);
    reader.i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    const arg = args[reader.argIndex];
    if (arg === undefined) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    reader.argIndex++;
    out += formatArg(arg, verb, spec);
  }
  if (reader.argIndex < args.length) {
    const extra = args.slice(reader.argIndex).map((arg) => (arg === NO_VALUE ? '<nil>' : `${typeName(arg)}=${formatValue(arg)}`));
    out += `%!(EXTRA ${extra.join(', ')})`;
  }
  return out;
}
