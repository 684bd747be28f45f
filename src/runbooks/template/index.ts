// The runbook template engine: Go text/template semantics (as hoop.dev runs runbooks) with our own
// lexer, parser and executor, hoop's parameter metadata, and Gatehouse's parameter checks.
//
// Supported: text, actions, trim markers, comments, pipelines, parentheses, fields, variables
// ($x := / $x =), if/else if/else, with/else with/else, range (over the parameter map and over
// integers) with else/break/continue, all literal kinds but complex numbers, the built-ins
// and or not eq ne lt le gt ge len index slice print printf println html js urlquery, and the 16
// hoop functions (runbook-functions.ts).
// Left out, failing as parse errors: {{define}}, {{template}}, {{block}} (a runbook is a single
// file with no templates to call) and the `call` built-in (the data holds no functions).
// Other deviations are noted where they live: numbers.ts, fmt.ts, re2.ts.
import { decodeBytes, encodeString, toWellFormed } from './bytes.js';
import type { ListNode } from './ast.js';
import { TemplateError } from './errors.js';
import { execute } from './evaluate.js';
import { extractParameters, type ParameterMetadata } from './metadata.js';
import { parseTemplate } from './parser.js';

export { TemplateError } from './errors.js';
export type { ParameterMetadata } from './metadata.js';
export { MAX_COMPUTED_CHARS, MAX_OUTPUT_BYTES, MAX_RANGE_ITERATIONS } from './evaluate.js';
export { MAX_NESTING_DEPTH } from './parser.js';

export interface ParsedRunbook {
  /** By parameter name, in order of first appearance. */
  readonly parameters: Record<string, ParameterMetadata>;
  /** The parsed template; only renderRunbook reads it. */
  readonly template: ParsedTemplate;
}

/** Opaque to callers. */
export interface ParsedTemplate {
  readonly source: string;
  readonly root: ListNode;
  /** By parameter name: the literal `options` arguments, where the runbook lists options. */
  readonly allowedValues: ReadonlyMap<string, string[]>;
}

export interface RenderedRunbook {
  script: Buffer;
  /** 'envvar:KEY' -> base64 of the value, from asenv. */
  envVars: Record<string, string>;
  parameters: Record<string, ParameterMetadata>;
}

/** An own property even for a name like "__proto__". */
function defineEntry<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function toRecord<T>(entries: Iterable<[string, T]>): Record<string, T> {
  const record: Record<string, T> = {};
  for (const [key, value] of entries) defineEntry(record, key, value);
  return record;
}

/** Parses a runbook; throws TemplateError for syntax errors and for top-level actions hoop rejects. */
export function parseRunbook(source: Buffer): ParsedRunbook {
  const text = decodeBytes(source);
  const root = parseTemplate(text);
  const extracted = [...extractParameters(root)];
  const allowedValues = new Map(extracted.flatMap(([name, p]) => (p.allowedValues ? [[name, p.allowedValues] as [string, string[]]] : [])));
  return { parameters: toRecord(extracted.map(([name, p]) => [name, p.metadata])), template: { source: text, root, allowedValues } };
}

const NUMBER = /^-?\d+(\.\d+)?$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function isUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' || url.host !== '';
}

/**
 * Gatehouse's server-side checks of supplied values, which hoop.dev leaves to its UI: a value
 * must be one of the `options` (as written in the runbook: `allowedValues`), and a `number`,
 * `email` or `url` parameter must look like one. Returns the error message, or undefined when
 * the value passes.
 */
export function checkParameterValue(name: string, metadata: ParameterMetadata, value: string, allowedValues?: string[]): string | undefined {
  if (allowedValues && !allowedValues.includes(value)) {
    return `invalid value for parameter ${name}: must be one of [${allowedValues.join(' ')}]`;
  }
  if (metadata.type === 'number' && !NUMBER.test(value)) return `invalid value for parameter ${name}: must be a number`;
  if (metadata.type === 'email' && !EMAIL.test(value)) return `invalid value for parameter ${name}: must be an email address`;
  if (metadata.type === 'url' && !isUrl(value)) return `invalid value for parameter ${name}: must be a URL`;
  return undefined;
}

/**
 * Renders a parsed runbook with the request's parameters (spec §4.4). Every extracted parameter
 * must be supplied unless it has a non-empty default; unknown parameters are ignored; "" counts
 * as supplied. Supplied non-empty values must then pass checkParameterValue (defaults are trusted).
 * Throws TemplateError.
 */
export function renderRunbook(parsed: ParsedRunbook, parameters: Record<string, string>): RenderedRunbook {
  const data = new Map<string, string>();
  for (const [name, value] of Object.entries(parameters)) data.set(name, toWellFormed(value));
  const missing: string[] = [];
  for (const [name, metadata] of Object.entries(parsed.parameters)) {
    if (data.has(name)) continue;
    // An empty value makes the template's default function substitute the default.
    if (metadata.default) data.set(name, '');
    else missing.push(name);
  }
  if (missing.length > 0) throw new TemplateError(`the following inputs are missing [${missing.join(' ')}]`);
  for (const [name, metadata] of Object.entries(parsed.parameters)) {
    const value = Object.hasOwn(parameters, name) ? data.get(name) : undefined;
    const problem = value ? checkParameterValue(name, metadata, value, parsed.template.allowedValues.get(name)) : undefined;
    if (problem) throw new TemplateError(problem);
  }
  const { output, envVars } = execute(parsed.template.root, parsed.template.source, data);
  return { script: encodeString(output), envVars: toRecord(envVars), parameters: parsed.parameters };
}

/** Spec §3: the last path segment contains ".runbook.". */
export function isRunbookFileName(path: string): boolean {
  return (path.split('/').pop() ?? '').includes('.runbook.');
}
