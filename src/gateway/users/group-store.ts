import { sql } from 'kysely';
import type { Db } from '../store/db.js';

/** Groups are the names users carry in `users.groups`, plus those created on their own. */
export function createGroupStore(db: Db) {
  return {
    async list(): Promise<string[]> {
      const result = await sql<{ name: string }>`
        SELECT name FROM user_groups UNION SELECT unnest(groups) FROM users ORDER BY name`.execute(db);
      return result.rows.map((row) => row.name);
    },

    async exists(name: string): Promise<boolean> {
      const result = await sql<{ found: boolean }>`
        SELECT EXISTS (SELECT 1 FROM user_groups WHERE name = ${name})
            OR EXISTS (SELECT 1 FROM users WHERE ${name} = ANY (groups)) AS found`.execute(db);
      return result.rows[0]?.found === true;
    },

    /** Answers whether it inserted (false if the name was already declared). */
    async insert(name: string): Promise<boolean> {
      const result = await db.insertInto('user_groups').values({ name }).onConflict((oc) => oc.doNothing()).executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    /** Removes the group and every membership in it; answers whether there was anything to remove. */
    async delete(name: string): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const declared = await trx.deleteFrom('user_groups').where('name', '=', name).executeTakeFirst();
        const members = await trx
          .updateTable('users')
          .set({ groups: sql<string[]>`array_remove(groups, ${name})`, updated_at: new Date() })
          .where(sql<boolean>`${name} = ANY (groups)`)
          .executeTakeFirst();
        return Number(declared.numDeletedRows) + Number(members.numUpdatedRows) > 0;
      });
    },
  };
}

export type GroupStore = ReturnType<typeof createGroupStore>;
