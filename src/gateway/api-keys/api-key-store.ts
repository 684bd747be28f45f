import type { Db } from '../store/db.js';

export interface ApiKeyRecord {
  id: string;
  name: string;
  userId: string;
  userEmail: string;
  userName: string;
  groups: string[];
}

export function createApiKeyStore(db: Db) {
  return {
    async findActiveByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
      const row = await db
        .selectFrom('api_keys')
        .select(['id', 'name', 'user_id', 'user_email', 'user_name', 'groups'])
        .where('key_hash', '=', keyHash)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return row && {
        id: row.id,
        name: row.name,
        userId: row.user_id,
        userEmail: row.user_email,
        userName: row.user_name,
        groups: row.groups,
      };
    },

    async countActive(): Promise<number> {
      const row = await db
        .selectFrom('api_keys')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('revoked_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async insert(record: ApiKeyRecord & { keyHash: string }): Promise<void> {
      await db
        .insertInto('api_keys')
        .values({
          id: record.id,
          name: record.name,
          key_hash: record.keyHash,
          user_id: record.userId,
          user_email: record.userEmail,
          user_name: record.userName,
          groups: record.groups,
        })
        .execute();
    },
  };
}

export type ApiKeyStore = ReturnType<typeof createApiKeyStore>;
