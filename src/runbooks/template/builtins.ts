// Go's predefined template functions with their error texts. Left out: call (the data holds no
// functions, so it could only fail).
import { byteLength, decodeBytes, encodeString } from './bytes.js';
import { callable, FunctionError, stringArg, type TemplateFunction } from './functions.js';
import { formatValue, sprint, sprintf, sprintln } from './fmt.js';
import { isPrint } from './quote.js';
import { compareStrings, GoNumber, isTrue, NO_VALUE, StringMap, typeName, type Value } from './values.js';

type BasicKind = 'bool' | 'int' | 'uint' | 'float' | 'string' | 'invalid';

function basicKind(value: Value): BasicKind {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (value instanceof GoNumber) return value.type === 'float64' ? 'float' : value.type === 'uint8' ? 'uint' : 'int';
  return 'invalid';
}

const INCOMPATIBLE = 'incompatible types for comparison';
const INVALID_TYPE = 'invalid type for comparison';

function isIntegerMix(a: BasicKind, b: BasicKind): boolean {
  return (a === 'int' && b === 'uint') || (a === 'uint' && b === 'int');
}

function numberOf(value: Value): number {
  return value instanceof GoNumber ? value.value : NaN;
}

/** eq arg1 arg2...: true when arg1 equals any of the others. */
function eq(args: readonly Value[]): boolean {
  const [first = NO_VALUE, ...others] = args;
  if (others.length === 0) throw new FunctionError('missing argument for comparison');
  const firstKind = basicKind(first);
  for (const other of others) {
    const kind = basicKind(other);
    let equal: boolean;
    if (firstKind !== kind) {
      if (!isIntegerMix(firstKind, kind) && first !== NO_VALUE && other !== NO_VALUE) throw new FunctionError(INCOMPATIBLE);
      equal = isIntegerMix(firstKind, kind) && numberOf(first) === numberOf(other);
    } else if (kind !== 'invalid') {
      equal = first instanceof GoNumber ? first.value === numberOf(other) : first === other;
    } else if (first === NO_VALUE || other === NO_VALUE) {
      equal = first === other;
    } else {
      // Both are maps, which Go cannot compare.
      throw new FunctionError(`non-comparable type ${formatValue(other)}: ${typeName(other)}`);
    }
    if (equal) return true;
  }
  return false;
}

function lt(a: Value, b: Value): boolean {
  const kindA = basicKind(a);
  const kindB = basicKind(b);
  if (kindA === 'invalid' || kindB === 'invalid') throw new FunctionError(INVALID_TYPE);
  if (kindA !== kindB && !isIntegerMix(kindA, kindB)) throw new FunctionError(INCOMPATIBLE);
  if (kindA === 'bool') throw new FunctionError(INVALID_TYPE);
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b) < 0;
  return numberOf(a) < numberOf(b);
}

function le(a: Value, b: Value): boolean {
  return lt(a, b) || eq([a, b]);
}

function indexArgument(index: Value, cap: number): number {
  if (index === NO_VALUE) throw new FunctionError('cannot index slice/array with nil');
  if (!(index instanceof GoNumber) || index.type === 'float64') {
    throw new FunctionError(`cannot index slice/array with type ${typeName(index)}`);
  }
  if (index.value < 0 || index.value > cap) throw new FunctionError(`index out of range: ${index.value}`);
  return index.value;
}

function index(args: readonly Value[]): Value {
  let [item = NO_VALUE, ...indexes] = args;
  if (item === NO_VALUE) throw new FunctionError('index of untyped nil');
  for (const key of indexes) {
    if (typeof item === 'string') {
      const bytes = encodeString(item);
      const at = indexArgument(key, bytes.length);
      // Go's own bounds check: index == len passes indexArg but not reflect.
      if (at === bytes.length) throw new FunctionError('reflect: string index out of range');
      item = new GoNumber('uint8', bytes[at] ?? 0);
    } else if (item instanceof StringMap) {
      if (key === NO_VALUE) throw new FunctionError('value is nil; should be of type string');
      if (typeof key !== 'string') throw new FunctionError(`value has type ${typeName(key)}; should be string`);
      item = item.entries.get(key) ?? '';
    } else {
      throw new FunctionError(`can't index item of type ${typeName(item)}`);
    }
  }
  return item;
}

function slice(args: readonly Value[]): Value {
  const [item = NO_VALUE, ...indexes] = args;
  if (item === NO_VALUE) throw new FunctionError('slice of untyped nil');
  if (indexes.length > 3) throw new FunctionError(`too many slice indexes: ${indexes.length}`);
  if (typeof item !== 'string') throw new FunctionError(`can't slice item of type ${typeName(item)}`);
  if (indexes.length === 3) throw new FunctionError('cannot 3-index slice a string');
  const bytes = encodeString(item);
  const bounds = [0, bytes.length];
  indexes.forEach((key, i) => {
    bounds[i] = indexArgument(key, bytes.length);
  });
  const [from = 0, to = 0] = bounds;
  if (from > to) throw new FunctionError(`invalid slice index: ${from} > ${to}`);
  return decodeBytes(bytes.subarray(from, to));
}

function length(item: Value): Value {
  if (typeof item === 'string') return new GoNumber('int', byteLength(item));
  if (item instanceof StringMap) return new GoNumber('int', item.entries.size);
  // Go reaches reflect with an invalid value here and reports reflect's panic.
  if (item === NO_VALUE) throw new FunctionError('reflect: call of reflect.Value.Type on zero Value');
  throw new FunctionError(`len of type ${typeName(item)}`);
}

/** The text html, js and urlquery escape: one string as is, else Sprint with "<no value>" for nil. */
function escaperInput(args: readonly Value[]): string {
  const [only] = args;
  if (args.length === 1 && typeof only === 'string') return only;
  return sprint(args.map((arg) => (arg === NO_VALUE ? '<no value>' : arg)));
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;', '\0': '\uFFFD' };

function htmlEscape(text: string): string {
  return text.replace(/["'&<>\0]/g, (ch) => HTML_ESCAPES[ch] ?? ch);
}

const JS_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\', "'": "\\'", '"': '\\"', '<': '\\u003C', '>': '\\u003E', '&': '\\u0026', '=': '\\u003D',
};

function jsEscape(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    const escape = JS_ESCAPES[ch];
    // An invalid byte decodes to the printable U+FFFD in Go, so the byte itself is kept.
    const invalidByte = cp >= 0xd800 && cp <= 0xdfff;
    if (escape) out += escape;
    else if (cp < 0x20) out += `\\u00${cp.toString(16).toUpperCase().padStart(2, '0')}`;
    else if (cp < 0x80 || invalidByte || isPrint(cp)) out += ch;
    else out += `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return out;
}

/** url.QueryEscape. */
function queryEscape(text: string): string {
  let out = '';
  for (const byte of encodeString(text)) {
    const ch = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(ch)) out += ch;
    else if (ch === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const ANY = ['any'] as const;

export const BUILTINS: ReadonlyMap<string, TemplateFunction> = new Map<string, TemplateFunction>([
  ['and', { kind: 'and', params: ANY, variadic: 'any' }],
  ['or', { kind: 'or', params: ANY, variadic: 'any' }],
  ['not', callable(ANY, ([value = NO_VALUE]) => !isTrue(value))],
  ['eq', callable(ANY, (args) => eq(args), 'any')],
  ['ne', callable(['any', 'any'], ([a = NO_VALUE, b = NO_VALUE]) => !eq([a, b]))],
  ['lt', callable(['any', 'any'], ([a = NO_VALUE, b = NO_VALUE]) => lt(a, b))],
  ['le', callable(['any', 'any'], ([a = NO_VALUE, b = NO_VALUE]) => le(a, b))],
  ['gt', callable(['any', 'any'], ([a = NO_VALUE, b = NO_VALUE]) => !le(a, b))],
  ['ge', callable(['any', 'any'], ([a = NO_VALUE, b = NO_VALUE]) => !lt(a, b))],
  ['len', callable(ANY, ([item = NO_VALUE]) => length(item))],
  ['index', callable(ANY, (args) => index(args), 'any')],
  ['slice', callable(ANY, (args) => slice(args), 'any')],
  ['print', callable([], (args) => sprint(args), 'any')],
  ['println', callable([], (args) => sprintln(args), 'any')],
  ['printf', callable(['string'], (args) => sprintf(stringArg(args, 0), args.slice(1)), 'any')],
  ['html', callable([], (args) => htmlEscape(escaperInput(args)), 'any')],
  ['js', callable([], (args) => jsEscape(escaperInput(args)), 'any')],
  ['urlquery', callable([], (args) => queryEscape(escaperInput(args)), 'any')],
]);
