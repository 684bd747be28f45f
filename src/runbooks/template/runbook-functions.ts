// The functions hoop.dev adds to runbook templates (spec §4.2). Most only carry metadata for the
// UI (see metadata.ts) and return the piped value unchanged.
import { createContext, Script } from 'node:vm';
import { decodeBytes, encodeString } from './bytes.js';
import { callable, FunctionError, stringArg, type CallableFunction, type TemplateFunction } from './functions.js';
import { compileRe2, Re2SyntaxError } from './re2.js';

/** func(_, value string) string: the first argument is only read by the metadata extraction. */
const PASS_THROUGH: CallableFunction = callable(['string', 'string'], (args) => stringArg(args, 1));

function required(message: string, value: string): string {
  // The message is shown as written (hoop formats it as a printf format: "100%" comes out as
  // "100%!(NOVERB)"; see docs/compatibility.md).
  if (value === '') throw new FunctionError(message);
  return value;
}

/** Longest a `pattern` match may run before it is stopped. */
export const PATTERN_MATCH_TIMEOUT_MS = 100;
// RE2 matches in linear time; JavaScript's engine backtracks, so a pattern like `^(a+)+$` and a
// crafted value could run for minutes. Matching inside a vm context puts a watchdog on it.
const matchContext = createContext({ regex: /$^/, value: '' });
const runMatch = new Script('regex.test(value)');

function pattern(regex: string, value: string): string {
  let compiled: RegExp;
  try {
    compiled = compileRe2(regex);
  } catch (error) {
    if (error instanceof Re2SyntaxError) throw new FunctionError(`regexp error: ${error.message}`);
    throw error;
  }
  Object.assign(matchContext, { regex: compiled, value });
  let matched: boolean;
  try {
    matched = runMatch.runInContext(matchContext, { timeout: PATTERN_MATCH_TIMEOUT_MS }) === true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw error;
    throw new FunctionError(`pattern ${regex} took longer than ${PATTERN_MATCH_TIMEOUT_MS} ms to match`);
  } finally {
    Object.assign(matchContext, { regex: /$^/, value: '' });
  }
  if (matched) return value;
  throw new FunctionError(`pattern didn't match:${regex}`);
}

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BASE64_VALUES: ReadonlyMap<number, number> = new Map([...BASE64_ALPHABET].map((ch, i) => [ch.charCodeAt(0), i]));
const PAD = 0x3d; // '='

function isNewline(byte: number | undefined): boolean {
  return byte === 0x0a || byte === 0x0d;
}

function corrupt(offset: number): FunctionError {
  return new FunctionError(`illegal base64 data at input byte ${offset}`);
}

/**
 * base64.StdEncoding.DecodeString, quantum by quantum so that the error offset is Go's:
 * newlines are skipped, padding is required, and anything after the padding is an error.
 */
function decodeBase64(text: string): string {
  const input = encodeString(text);
  const output: number[] = [];
  let si = 0;
  while (si < input.length) {
    const quantum = [0, 0, 0, 0];
    let length = 4;
    for (let j = 0; j < 4; j++) {
      if (si === input.length) {
        if (j === 0) return decodeBytes(Buffer.from(output));
        throw corrupt(si - j);
      }
      const byte = input[si++] ?? 0;
      const value = BASE64_VALUES.get(byte);
      if (value !== undefined) {
        quantum[j] = value;
        continue;
      }
      if (isNewline(byte)) {
        j--;
        continue;
      }
      if (byte !== PAD || j < 2) throw corrupt(si - 1);
      if (j === 2) {
        // "==" is expected; the first "=" is consumed.
        while (isNewline(input[si])) si++;
        if (si === input.length) throw corrupt(input.length);
        if (input[si] !== PAD) throw corrupt(si - 1);
        si++;
      }
      while (isNewline(input[si])) si++;
      if (si < input.length) throw corrupt(si);
      length = j;
      break;
    }
    const [a = 0, b = 0, c = 0, d = 0] = quantum;
    const bits = (a << 18) | (b << 12) | (c << 6) | d;
    output.push(...[(bits >> 16) & 0xff, (bits >> 8) & 0xff, bits & 0xff].slice(0, length - 1));
  }
  return decodeBytes(Buffer.from(output));
}

export const RUNBOOK_FUNCTIONS: ReadonlyMap<string, TemplateFunction> = new Map<string, TemplateFunction>([
  ['required', callable(['string', 'string'], (args) => required(stringArg(args, 0), stringArg(args, 1)))],
  ['default', callable(['string', 'string'], (args) => stringArg(args, 1) || stringArg(args, 0))],
  ['pattern', callable(['string', 'string'], (args) => pattern(stringArg(args, 0), stringArg(args, 1)))],
  ['placeholder', PASS_THROUGH],
  ['minlength', PASS_THROUGH],
  ['maxlength', PASS_THROUGH],
  ['description', PASS_THROUGH],
  ['type', PASS_THROUGH],
  ['order', PASS_THROUGH],
  ['options', callable([], (args) => (args.length === 0 ? '' : stringArg(args, args.length - 1)), 'string')],
  ['squote', callable(['string'], (args) => `'${stringArg(args, 0)}'`)],
  ['dquote', callable(['string'], (args) => `"${stringArg(args, 0)}"`)],
  ['quotechar', callable(['string', 'string'], (args) => stringArg(args, 0) + stringArg(args, 1) + stringArg(args, 0))],
  ['encodeb64', callable(['string'], (args) => encodeString(stringArg(args, 0)).toString('base64'))],
  ['decodeb64', callable(['string'], (args) => decodeBase64(stringArg(args, 0)))],
  [
    'asenv',
    callable(['string', 'string'], (args, context) => {
      context.envVars.set(`envvar:${stringArg(args, 0)}`, encodeString(stringArg(args, 1)).toString('base64'));
      return '';
    }),
  ],
]);
