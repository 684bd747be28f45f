// The Go values a runbook template can produce. Parameters are strings and the data is a
// map[string]string; numbers come from literals, len and index; booleans from comparisons.

/** An invalid reflect.Value, e.g. a missing map key: prints as "<no value>", passes as nil. */
export const NO_VALUE: unique symbol = Symbol('no value');
export type NoValue = typeof NO_VALUE;

export type NumberType = 'int' | 'uint8' | 'float64';

export class GoNumber {
  constructor(readonly type: NumberType, readonly value: number) {}
}

/** The template data: Go's map[string]string. */
export class StringMap {
  private sorted: string[] | undefined;

  constructor(readonly entries: ReadonlyMap<string, string>) {}

  /** Keys in the order Go prints and ranges over them. */
  get sortedKeys(): string[] {
    this.sorted ??= [...this.entries.keys()].sort(compareStrings);
    return this.sorted;
  }
}

export type Value = string | boolean | GoNumber | StringMap | NoValue;

export function goInt(value: number): GoNumber {
  return new GoNumber('int', value);
}

/** reflect.Type.String() of a value. */
export function typeName(value: Exclude<Value, NoValue>): string {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (value instanceof GoNumber) return value.type;
  return 'map[string]string';
}

/** Go's template truth: empty string, zero, false, missing and empty map are false. */
export function isTrue(value: Value): boolean {
  if (value === NO_VALUE) return false;
  if (typeof value === 'string') return value.length > 0;
  if (typeof value === 'boolean') return value;
  if (value instanceof GoNumber) return value.value !== 0;
  return value.entries.size > 0;
}

/** Orders strings by code point, which is the byte order Go compares UTF-8 strings in. */
export function compareStrings(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (code points above U+FFFF) sort after every other BMP unit of U+E000 and up.
    const xAstral = x >= 0xd800 && x <= 0xdfff;
    const yAstral = y >= 0xd800 && y <= 0xdfff;
    if (xAstral !== yAstral && Math.max(x, y) >= 0xe000) return xAstral ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
