/**
 * Table and schema names in SQL rules are written as in SQL, and compared the way PostgreSQL
 * resolves them: an unquoted identifier folds to lower case (ASCII letters only, as PostgreSQL does
 * with UTF-8), a double-quoted one is taken as is (`""` is a quote), so `Payroll` and `payroll`
 * name the same table and `"Payroll"` another one.
 */

/** PostgreSQL truncates longer identifiers (NAMEDATALEN - 1), so a longer rule name could never match. */
export const MAX_IDENTIFIER_BYTES = 63;

export interface RelationName {
  schema?: string;
  name: string;
}

const UNQUOTED = /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/;
const PLAIN = /^[a-z_][a-z0-9_$]*$/;

export function foldIdentifier(identifier: string): string {
  return identifier.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/** `name` or `schema.name`; throws an Error whose message says what is wrong. */
export function parseRelationName(text: string): RelationName {
  const parts = parseIdentifiers(text, 'table');
  if (parts.length > 2) throw new Error(`"${text}" has ${parts.length} parts: write table or schema.table`);
  return parts.length === 2 ? { schema: parts[0]!, name: parts[1]! } : { name: parts[0]! };
}

export function parseSchemaName(text: string): string {
  const parts = parseIdentifiers(text, 'schema');
  if (parts.length > 1) throw new Error(`"${text}" is not a single schema name`);
  return parts[0]!;
}

/** How a name is written back in messages: quoted only when it has to be. */
export function showIdentifier(identifier: string): string {
  return PLAIN.test(identifier) ? identifier : `"${identifier.replaceAll('"', '""')}"`;
}

export function showRelation(relation: RelationName): string {
  const name = showIdentifier(relation.name);
  return relation.schema === undefined ? name : `${showIdentifier(relation.schema)}.${name}`;
}

function parseIdentifiers(text: string, what: string): string[] {
  const source = text.trim();
  const parts: string[] = [];
  let rest = source;
  for (;;) {
    let identifier: string;
    if (rest.startsWith('"')) {
      const end = closingQuote(rest);
      if (end < 0) throw new Error(`unterminated quoted identifier in "${text}"`);
      identifier = rest.slice(1, end).replaceAll('""', '"');
      if (identifier === '') throw new Error(`empty quoted identifier in "${text}"`);
      rest = rest.slice(end + 1);
    } else {
      const match = UNQUOTED.exec(rest);
      if (!match) throw new Error(`"${text}" is not a valid ${what} name (quote names with other characters, like "my-${what}")`);
      identifier = foldIdentifier(match[0]);
      rest = rest.slice(match[0].length);
    }
    if (Buffer.byteLength(identifier) > MAX_IDENTIFIER_BYTES) {
      throw new Error(`identifier longer than ${MAX_IDENTIFIER_BYTES} bytes in "${text}"`);
    }
    parts.push(identifier);
    if (rest === '') return parts;
    if (!rest.startsWith('.')) throw new Error(`"${text}" is not a valid ${what} name (unexpected "${rest[0]}")`);
    rest = rest.slice(1);
  }
}

function closingQuote(text: string): number {
  for (let i = 1; i < text.length; i++) {
    if (text[i] !== '"') continue;
    if (text[i + 1] !== '"') return i;
    i++;
  }
  return -1;
}
