// What a template function looks like to the executor: the Go signature it mirrors (for the
// argument count and type checks Go makes) and its body.
import type { Value } from './values.js';

/**
 * 'string': a Go string parameter, anything else is a type error.
 * 'any': interface{} or reflect.Value; a missing value arrives as NO_VALUE (Go's nil).
 */
export type ParamKind = 'string' | 'any';

export interface CallContext {
  /** Variables recorded by asenv: 'envvar:KEY' -> base64 of the value. */
  readonly envVars: Map<string, string>;
}

export interface CallableFunction {
  readonly kind: 'call';
  readonly params: readonly ParamKind[];
  /** The element kind of a trailing ...parameter. */
  readonly variadic?: ParamKind;
  /** Throws FunctionError for the errors Go reports as "error calling <name>: …". */
  readonly call: (args: Value[], context: CallContext) => Value;
}

/** and/or evaluate their operands lazily, so the executor runs them itself. */
export interface LogicFunction {
  readonly kind: 'and' | 'or';
  readonly params: readonly ['any'];
  readonly variadic: 'any';
}

export type TemplateFunction = CallableFunction | LogicFunction;

export class FunctionError extends Error {}

export function callable(params: readonly ParamKind[], call: CallableFunction['call'], variadic?: ParamKind): CallableFunction {
  return variadic === undefined ? { kind: 'call', params, call } : { kind: 'call', params, variadic, call };
}

/** The argument at `index`, which the executor has already checked to be a string. */
export function stringArg(args: readonly Value[], index: number): string {
  const arg = args[index];
  if (typeof arg !== 'string') throw new TypeError(`argument ${index} is not a string`);
  return arg;
}
