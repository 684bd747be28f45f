import { sql, type Selectable } from 'kysely';
import type { Db } from '../store/db.js';
import type { UsersTable } from '../store/schema.js';
import type { UserRecord, UserStatus, UserWrite } from './user-types.js';
import { UUID } from '../ids.js';

/** Serialises the first registration, so that only one user is ever created as the first admin. */
const FIRST_USER_LOCK_ID = 0x7573657273;

const USER_COLUMNS = ['id', 'subject', 'email', 'name', 'status', 'verified', 'slack_id', 'picture', 'groups'] as const;

function fromRow(row: Pick<Selectable<UsersTable>, (typeof USER_COLUMNS)[number]>): UserRecord {
  return {
    id: row.id,
    subject: row.subject,
    email: row.email,
    name: row.name,
    status: row.status as UserStatus,
    verified: row.verified,
    slackId: row.slack_id,
    picture: row.picture,
    groups: row.groups,
  };
}

function toRow(user: UserWrite) {
  return {
    id: user.id,
    subject: user.subject,
    email: user.email,
    name: user.name,
    status: user.status,
    verified: user.verified,
    slack_id: user.slackId,
    picture: user.picture,
    groups: user.groups,
    ...(user.passwordHash !== undefined ? { password_hash: user.passwordHash } : {}),
    updated_at: new Date(),
  };
}

export function createUserStore(db: Db) {
  const emailIs = (email: string) => sql<boolean>`lower(email) = ${email.toLowerCase()}`;
  const selectUsers = () => db.selectFrom('users').select(USER_COLUMNS);

  return {
    async findById(id: string): Promise<UserRecord | undefined> {
      // The column is a uuid: anything else matches nothing (and must not reach the query).
      if (!UUID.test(id)) return undefined;
      const row = await selectUsers().where('id', '=', id).executeTakeFirst();
      return row && fromRow(row);
    },

    async findByIdOrEmail(idOrEmail: string): Promise<UserRecord | undefined> {
      const row = await selectUsers()
        .where((eb) => (UUID.test(idOrEmail) ? eb.or([eb('id', '=', idOrEmail), emailIs(idOrEmail)]) : emailIs(idOrEmail)))
        .executeTakeFirst();
      return row && fromRow(row);
    },

    /** The user an identity provider's subject is linked to. */
    async findBySubject(subject: string): Promise<UserRecord | undefined> {
      const row = await selectUsers().where('subject', '=', subject).executeTakeFirst();
      return row && fromRow(row);
    },

    async findByEmail(email: string): Promise<UserRecord | undefined> {
      const row = await selectUsers().where(emailIs(email)).executeTakeFirst();
      return row && fromRow(row);
    },

    /** The user with this email and their password hash, for checking a login. */
    async findLogin(email: string): Promise<{ user: UserRecord; passwordHash: string | null } | undefined> {
      const row = await selectUsers().select('password_hash').where(emailIs(email)).executeTakeFirst();
      return row && { user: fromRow(row), passwordHash: row.password_hash };
    },

    async list(): Promise<UserRecord[]> {
      return (await selectUsers().orderBy(sql`lower(email)`).execute()).map(fromRow);
    },

    async hasAny(): Promise<boolean> {
      return (await db.selectFrom('users').select('id').limit(1).executeTakeFirst()) !== undefined;
    },

    /** Inserts unless the email or subject is taken; answers whether it inserted. */
    async insert(user: UserWrite): Promise<boolean> {
      const result = await db.insertInto('users').values(toRow(user)).onConflict((oc) => oc.doNothing()).executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    /** Inserts only into an empty table; answers whether it inserted. */
    async insertFirst(user: UserWrite): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        await sql`SELECT pg_advisory_xact_lock(${FIRST_USER_LOCK_ID})`.execute(trx);
        if (await trx.selectFrom('users').select('id').limit(1).executeTakeFirst()) return false;
        await trx.insertInto('users').values(toRow(user)).execute();
        return true;
      });
    },

    async update(user: UserWrite): Promise<void> {
      await db.updateTable('users').set(toRow(user)).where('id', '=', user.id).execute();
    },

    async deleteById(id: string): Promise<boolean> {
      const result = await db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

export type UserStore = ReturnType<typeof createUserStore>;
