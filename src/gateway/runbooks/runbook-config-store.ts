import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Db } from '../store/db.js';
import { toBuffer } from '../store/db.js';
import type { RunbookRepositoriesTable } from '../store/schema.js';

export interface RunbookRepositoryRecord {
  id: string;
  repository: string;
  gitUrl: string;
  gitBranch: string;
  pathPrefix: string;
  gitUser: string;
  sshUser: string;
  sshKnownHosts: string;
  gitHookTtl: number;
  secretsSealed: Buffer | null;
}

export interface RunbookConfigurationRecord {
  id: string;
  createdAt: Date;
  updatedAt: Date;
  repositories: RunbookRepositoryRecord[];
}

function fromRow(row: Selectable<RunbookRepositoriesTable>): RunbookRepositoryRecord {
  return {
    id: row.id,
    repository: row.repository,
    gitUrl: row.git_url,
    gitBranch: row.git_branch,
    pathPrefix: row.path_prefix,
    gitUser: row.git_user,
    sshUser: row.ssh_user,
    sshKnownHosts: row.ssh_known_hosts,
    gitHookTtl: row.git_hook_ttl,
    secretsSealed: row.secrets_sealed ? toBuffer(row.secrets_sealed) : null,
  };
}

function toRow(record: RunbookRepositoryRecord) {
  return {
    id: record.id,
    repository: record.repository,
    git_url: record.gitUrl,
    git_branch: record.gitBranch,
    path_prefix: record.pathPrefix,
    git_user: record.gitUser,
    ssh_user: record.sshUser,
    ssh_known_hosts: record.sshKnownHosts,
    git_hook_ttl: record.gitHookTtl,
    secrets_sealed: record.secretsSealed,
    updated_at: new Date(),
  };
}

export function createRunbookConfigStore(db: Db) {
  /** Creates the configuration row if there is none, and marks it updated. */
  const touchConfiguration = (trx: Db) =>
    trx
      .insertInto('runbook_configuration')
      .values({ id: randomUUID(), updated_at: new Date() })
      .onConflict((oc) => oc.column('singleton').doUpdateSet({ updated_at: new Date() }))
      .execute();

  return {
    async load(): Promise<RunbookConfigurationRecord | undefined> {
      const [configuration, rows] = await Promise.all([
        db.selectFrom('runbook_configuration').selectAll().executeTakeFirst(),
        db.selectFrom('runbook_repositories').selectAll().orderBy('position').orderBy('created_at').execute(),
      ]);
      if (!configuration) return undefined;
      return { id: configuration.id, createdAt: configuration.created_at, updatedAt: configuration.updated_at, repositories: rows.map(fromRow) };
    },

    async replaceAll(records: RunbookRepositoryRecord[]): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('runbook_repositories').execute();
        if (records.length) await trx.insertInto('runbook_repositories').values(records.map((record, position) => ({ ...toRow(record), position }))).execute();
        await touchConfiguration(trx);
      });
    },

    /** Adds a repository at the end; false when one with the same name exists. */
    async insert(record: RunbookRepositoryRecord): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const last = await trx
          .selectFrom('runbook_repositories')
          .select((eb) => eb.fn.max('position').as('position'))
          .executeTakeFirst();
        const inserted = await trx
          .insertInto('runbook_repositories')
          .values({ ...toRow(record), position: (last?.position ?? -1) + 1 })
          .onConflict((oc) => oc.doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return false;
        await touchConfiguration(trx);
        return true;
      });
    },

    /** Updates the repository with this id; false when there is none. */
    async update(record: RunbookRepositoryRecord): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const updated = await trx.updateTable('runbook_repositories').set(toRow(record)).where('id', '=', record.id).executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 0) return false;
        await touchConfiguration(trx);
        return true;
      });
    },

    async remove(id: string): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const deleted = await trx.deleteFrom('runbook_repositories').where('id', '=', id).executeTakeFirst();
        if (Number(deleted.numDeletedRows) === 0) return false;
        await touchConfiguration(trx);
        return true;
      });
    },
  };
}

export type RunbookConfigStore = ReturnType<typeof createRunbookConfigStore>;
