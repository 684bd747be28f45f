import { readdir, readFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { PGliteDialect } from './pglite-dialect.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

/** PostgreSQL's unique_violation (PGlite reports the same code). */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code === '23505';
}

export interface Store {
  db: Db;
  kind: 'pglite' | 'postgres';
  close(): Promise<void>;
}

const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/', import.meta.url));
/** Serialises migrations when several gateways start against one PostgreSQL. */
const MIGRATION_LOCK_ID = 0x6761746568;

// Keep bigint counts and numerics as JS numbers; every column we count fits.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export async function openStore(options: { postgresUri?: string; dataDir: string }): Promise<Store> {
  let store: Store;
  if (options.postgresUri) {
    const pool = new pg.Pool({ connectionString: options.postgresUri, max: 10 });
    // An idle client that errors (server restart) must not crash the gateway.
    pool.on('error', () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    store = { db, kind: 'postgres', close: () => db.destroy() };
  } else {
    const { PGlite } = await import('@electric-sql/pglite');
    const dir = path.join(options.dataDir, 'pgdata');
    await mkdir(dir, { recursive: true });
    const pglite = await PGlite.create(dir);
    const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
    store = { db, kind: 'pglite', close: () => db.destroy() };
  }
  try {
    await migrate(store.db);
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

/** Applies every migrations/NNN_*.sql not yet applied, in order, each in its own transaction. */
async function migrate(db: Db): Promise<void> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d+_.*\.sql$/.test(f)).sort();
  await db.connection().execute(async (conn) => {
    await sql`SELECT pg_advisory_lock(${MIGRATION_LOCK_ID})`.execute(conn);
    try {
      await sql`CREATE TABLE IF NOT EXISTS schema_migrations (
        name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`.execute(conn);
      const applied = await sql<{ name: string }>`SELECT name FROM schema_migrations`.execute(conn);
      const done = new Set(applied.rows.map((r) => r.name));
      for (const file of files.filter((f) => !done.has(f))) {
        const body = await readFile(path.join(MIGRATIONS_DIR, file), 'utf8');
        await conn.transaction().execute(async (tx) => {
          await sql.raw(body).execute(tx);
          await sql`INSERT INTO schema_migrations (name) VALUES (${file})`.execute(tx);
        });
      }
    } finally {
      await sql`SELECT pg_advisory_unlock(${MIGRATION_LOCK_ID})`.execute(conn);
    }
  });
}

export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
