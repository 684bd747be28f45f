/**
 * What a script does, read from the PostgreSQL parse tree (libpg-query, the real parser compiled to
 * WASM, loaded from the package on first use: nothing is downloaded). The whole tree is walked, so
 * statements and tables are seen wherever they are: in CTEs, subqueries, joins, EXPLAIN, PREPARE,
 * CREATE VIEW/RULE and SQL-standard function bodies (BEGIN ATOMIC). A nested statement counts even
 * where it would not run (EXPLAIN without ANALYZE, a function defined but not called): fail closed.
 * For require_where, any WHERE clause will do (`WHERE true` too).
 *
 * Not seen, because the text is not SQL to the parser or is only resolved by the server:
 * - bodies kept as strings: DO blocks, functions written with AS '…' / $$…$$, dynamic SQL
 *   (EXECUTE in PL/pgSQL, dblink, …): deny DO / CREATE to close that door;
 * - what names resolve to at run time: views and functions that read a table, the search_path
 *   (an unqualified name matches a qualified deny_tables entry, and `SET search_path` naming a
 *   denied schema is caught, but `set_config('search_path', …)` is not), prepared statements
 *   run with EXECUTE that were prepared in another script;
 * - type names (`hr.money`), since the parser also writes built-in types as `pg_catalog.x`.
 * A script that does not parse, or is larger than GUARDRAIL_LIMITS.sqlScriptBytes, violates every
 * SQL rule: psql meta-commands (`\d`), psql variables (`:name`) and other dialects fail closed.
 */
import type { ParseResult } from 'libpg-query';
import { GUARDRAIL_LIMITS } from './limits.js';
import { foldIdentifier, type RelationName } from './sql-identifiers.js';
import { statementKinds } from './sql-statement-kinds.js';

export interface SqlFacts {
  /** Top-level statements. */
  statementCount: number;
  /** Statement kinds found anywhere in the tree, in order of appearance. */
  kinds: ReadonlySet<string>;
  writesWithoutWhere: ReadonlySet<'UPDATE' | 'DELETE'>;
  /** Every table (view, sequence, …) named; `schema` only when the script qualified it. */
  relations: readonly RelationName[];
  /** Schemas named otherwise than as a relation's qualifier: DROP SCHEMA, qualified functions, … */
  schemas: ReadonlySet<string>;
}

/** `unreadable`: why the script could not be analyzed (it then violates every SQL rule). */
export type SqlAnalysis = { facts: SqlFacts } | { unreadable: string };

type Parser = typeof import('libpg-query');
let parser: Promise<Parser> | undefined;

/** Loaded on first use: importing libpg-query instantiates its WASM module. */
function loadParser(): Promise<Parser> {
  parser ??= import('libpg-query').then(
    async (module) => {
      await module.loadModule();
      return module;
    },
    (error: unknown) => {
      parser = undefined;
      throw error;
    },
  );
  return parser;
}

/** Rejects only if the parser cannot be loaded (a broken install). */
export async function analyzeSql(script: string): Promise<SqlAnalysis> {
  const bytes = Buffer.byteLength(script);
  if (bytes > GUARDRAIL_LIMITS.sqlScriptBytes) {
    return { unreadable: `script too large for SQL rules: ${bytes} bytes (at most ${GUARDRAIL_LIMITS.sqlScriptBytes})` };
  }
  // The parser reads a C string: it would stop at a NUL and never see what follows.
  if (script.includes('\0')) return { unreadable: 'syntax error: the script contains a NUL character' };
  const facts: Facts = { statementCount: 0, kinds: new Set(), writesWithoutWhere: new Set(), relations: [], schemas: new Set() };
  if (script === '') return { facts };
  const { parseSync, hasSqlDetails } = await loadParser();
  const exitCode = process.exitCode;
  let tree: ParseResult;
  try {
    tree = parseSync(script);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = hasSqlDetails(error) ? ` (position ${error.sqlDetails!.cursorPosition})` : '';
    return { unreadable: `syntax error: ${message}${position}` };
  } finally {
    // On a FATAL error the WASM runtime calls exit(), which sets the exit code of the gateway.
    process.exitCode = exitCode;
  }
  facts.statementCount = tree.stmts?.length ?? 0;
  walk(tree.stmts ?? [], facts);
  return { facts };
}

interface Facts extends SqlFacts {
  statementCount: number;
  kinds: Set<string>;
  writesWithoutWhere: Set<'UPDATE' | 'DELETE'>;
  relations: RelationName[];
  schemas: Set<string>;
}

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Depth-first in source order, with an explicit stack: parse trees can be deeper than the JS stack. */
function walk(root: unknown, facts: Facts): void {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push(value[i]);
      continue;
    }
    if (!isObject(value)) continue;
    noteShape(value, facts);
    const entries = Object.entries(value);
    for (const [key, child] of entries) if (isObject(child)) noteNode(key, child, facts);
    for (let i = entries.length - 1; i >= 0; i--) stack.push(entries[i]![1]);
  }
}

/** Nodes recognised by their fields, because they also appear unwrapped (a bare RangeVar, …). */
function noteShape(node: JsonObject, facts: Facts): void {
  if (typeof node.relname === 'string') {
    facts.relations.push({ ...(typeof node.schemaname === 'string' ? { schema: node.schemaname } : {}), name: node.relname });
  }
  // Function names; SQL syntax like EXTRACT(…) is written by the parser as pg_catalog.extract.
  if (node.funcformat !== 'COERCE_SQL_SYNTAX') noteQualifier(stringList(node.funcname), facts);
  noteQualifier(stringList(node.objname), facts);
  if (node.name === 'search_path' && typeof node.kind === 'string' && node.kind.startsWith('VAR_SET')) {
    for (const arg of Array.isArray(node.args) ? node.args : []) noteSearchPath(arg, facts);
  }
}

function noteNode(nodeType: string, node: JsonObject, facts: Facts): void {
  for (const kind of statementKinds(nodeType, node)) facts.kinds.add(kind);
  switch (nodeType) {
    case 'UpdateStmt':
    case 'DeleteStmt':
      if (node.whereClause === undefined) facts.writesWithoutWhere.add(nodeType === 'UpdateStmt' ? 'UPDATE' : 'DELETE');
      break;
    case 'DropStmt':
      for (const object of Array.isArray(node.objects) ? node.objects : []) noteObject(node.removeType, object, facts);
      break;
    case 'CommentStmt':
    case 'SecLabelStmt':
      noteObject(node.objtype, node.object, facts);
      break;
    case 'AlterOwnerStmt':
      noteObject(node.objectType, node.object, facts);
      break;
    case 'AlterObjectSchemaStmt':
      noteObject(node.objectType, node.object, facts);
      if (typeof node.newschema === 'string') facts.schemas.add(node.newschema);
      break;
    case 'RenameStmt':
      if (node.renameType === 'OBJECT_SCHEMA' && typeof node.subname === 'string') facts.schemas.add(node.subname);
      noteObject(node.renameType, node.object, facts);
      break;
    case 'GrantStmt': {
      const objectType = node.targtype === 'ACL_TARGET_ALL_IN_SCHEMA' ? 'OBJECT_SCHEMA' : node.objtype;
      for (const object of Array.isArray(node.objects) ? node.objects : []) noteObject(objectType, object, facts);
      break;
    }
    case 'CreateSchemaStmt':
      if (typeof node.schemaname === 'string') facts.schemas.add(node.schemaname);
      break;
    case 'DefElem':
      // ALTER DEFAULT PRIVILEGES IN SCHEMA …
      if (node.defname === 'schemas' && isObject(node.arg)) {
        for (const schema of stringList(isObject(node.arg.List) ? node.arg.List.items : undefined) ?? []) facts.schemas.add(schema);
      }
      break;
  }
}

/** Relations whose names are plain lists (`DROP TABLE hr.payroll` has no RangeVar). */
const RELATION_OBJECTS = new Set(['OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_FOREIGN_TABLE', 'OBJECT_SEQUENCE']);
/** Objects named `[schema.]table.name`. */
const TABLE_PART_OBJECTS = new Set(['OBJECT_COLUMN', 'OBJECT_TRIGGER', 'OBJECT_POLICY', 'OBJECT_RULE', 'OBJECT_TABCONSTRAINT']);

function noteObject(objectType: unknown, object: unknown, facts: Facts): void {
  if (!isObject(object) || typeof objectType !== 'string') return;
  const name = isObject(object.String)
    ? stringList([object])
    : isObject(object.List)
      ? stringList(object.List.items)
      : isObject(object.TypeName)
        ? stringList(object.TypeName.names)
        : undefined;
  if (!name || name.length === 0) return;
  if (objectType === 'OBJECT_SCHEMA') {
    if (name.length === 1) facts.schemas.add(name[0]!);
  } else if (RELATION_OBJECTS.has(objectType)) {
    facts.relations.push(relation(name.at(-2), name.at(-1)!));
  } else if (TABLE_PART_OBJECTS.has(objectType)) {
    if (name.length >= 2) facts.relations.push(relation(name.at(-3), name.at(-2)!));
  } else {
    noteQualifier(name, facts);
  }
}

function relation(schema: string | undefined, name: string): RelationName {
  return schema === undefined ? { name } : { schema, name };
}

function noteQualifier(name: string[] | undefined, facts: Facts): void {
  if (name && name.length >= 2) facts.schemas.add(name.at(-2)!);
}

/**
 * `SET search_path TO hr` or `= 'hr, public'`: the server splits a string value into identifiers
 * and folds the unquoted ones. The tree does not tell `"HR"` from `'HR'` (one keeps the case, the
 * other folds), so both spellings count.
 */
function noteSearchPath(arg: unknown, facts: Facts): void {
  if (!isObject(arg) || !isObject(arg.A_Const) || !isObject(arg.A_Const.sval)) return;
  const value = arg.A_Const.sval.sval;
  if (typeof value !== 'string') return;
  for (const item of value.split(',')) {
    const entry = item.trim();
    if (entry.length >= 2 && entry.startsWith('"') && entry.endsWith('"')) {
      facts.schemas.add(entry.slice(1, -1).replaceAll('""', '"'));
    } else if (entry !== '') {
      facts.schemas.add(entry);
      facts.schemas.add(foldIdentifier(entry));
    }
  }
}

/** `[{String: {sval}}, …]` as strings, or undefined when it is not such a list. */
function stringList(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const strings: string[] = [];
  for (const item of value) {
    if (!isObject(item) || !isObject(item.String) || typeof item.String.sval !== 'string') return undefined;
    strings.push(item.String.sval);
  }
  return strings;
}
