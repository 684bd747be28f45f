import type { Selectable } from 'kysely';
import { isUniqueViolation, type Db } from '../store/db.js';
import type { ApiKeysTable } from '../store/schema.js';
import { UUID } from '../ids.js';

export interface ApiKeyRecord {
  id: string;
  name: string;
  userId: string;
  userEmail: string;
  userName: string;
  groups: string[];
}

/** A key as administered: never its hash. */
export interface ApiKeyDetails extends ApiKeyRecord {
  maskedKey: string;
  createdBy: string;
  createdAt: Date;
  revokedAt: Date | null;
  revokedBy: string | null;
  lastUsedAt: Date | null;
}

export interface NewApiKey extends ApiKeyRecord {
  keyHash: string;
  maskedKey: string;
  createdBy: string;
}

const DETAIL_COLUMNS = [
  'id', 'name', 'user_id', 'user_email', 'user_name', 'groups', 'masked_key', 'created_by', 'created_at', 'revoked_at', 'revoked_by',
  'last_used_at',
] as const;

type DetailRow = Pick<Selectable<ApiKeysTable>, (typeof DETAIL_COLUMNS)[number]>;

function fromRow(row: DetailRow): ApiKeyDetails {
  return {
    id: row.id,
    name: row.name,
    userId: row.user_id,
    userEmail: row.user_email,
    userName: row.user_name,
    groups: row.groups,
    maskedKey: row.masked_key,
    createdBy: row.created_by,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    revokedBy: row.revoked_by,
    lastUsedAt: row.last_used_at,
  };
}

/** Runs a write; false when it broke the unique name. */
async function nameTaken(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (isUniqueViolation(error)) return false;
    throw error;
  }
}

export function createApiKeyStore(db: Db) {
  const byNameOrId = (nameOrId: string) => {
    const query = db.selectFrom('api_keys').select(DETAIL_COLUMNS);
    return UUID.test(nameOrId) ? query.where('id', '=', nameOrId) : query.where('name', '=', nameOrId);
  };

  return {
    async findActiveByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
      const row = await db.selectFrom('api_keys').select(DETAIL_COLUMNS).where('key_hash', '=', keyHash).where('revoked_at', 'is', null).executeTakeFirst();
      return row && fromRow(row);
    },

    async countActive(): Promise<number> {
      const row = await db
        .selectFrom('api_keys')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('revoked_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /** False when the name is taken. */
    async insert(record: NewApiKey): Promise<boolean> {
      return nameTaken(db
        .insertInto('api_keys')
        .values({
          id: record.id,
          name: record.name,
          key_hash: record.keyHash,
          user_id: record.userId,
          user_email: record.userEmail,
          user_name: record.userName,
          groups: record.groups,
          masked_key: record.maskedKey,
          created_by: record.createdBy,
        })
        .execute(),
      );
    },

    async list(): Promise<ApiKeyDetails[]> {
      const rows = await db.selectFrom('api_keys').select(DETAIL_COLUMNS).orderBy('created_at').orderBy('name').execute();
      return rows.map(fromRow);
    },

    async find(nameOrId: string): Promise<ApiKeyDetails | undefined> {
      const row = await byNameOrId(nameOrId).executeTakeFirst();
      return row && fromRow(row);
    },

    /** A key's display name (also its identity's name and email) and groups; false when the name is taken. */
    async update(id: string, change: { name: string; groups: string[] }): Promise<boolean> {
      return nameTaken(
        db
          .updateTable('api_keys')
          .set({ name: change.name, user_name: change.name, user_email: change.name, groups: change.groups })
          .where('id', '=', id)
          .execute(),
      );
    },

    async setRevoked(id: string, revokedBy: string | null): Promise<void> {
      await db
        .updateTable('api_keys')
        .set(revokedBy === null ? { revoked_at: null, revoked_by: null } : { revoked_at: new Date(), revoked_by: revokedBy })
        .where('id', '=', id)
        .execute();
    },

    async touchLastUsed(id: string): Promise<void> {
      await db.updateTable('api_keys').set({ last_used_at: new Date() }).where('id', '=', id).execute();
    },
  };
}

export type ApiKeyStore = ReturnType<typeof createApiKeyStore>;
