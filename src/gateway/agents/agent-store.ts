import type { Selectable } from 'kysely';
import type { Db } from '../store/db.js';
import type { AgentsTable } from '../store/schema.js';
import { UUID } from '../ids.js';

export type AgentStatus = 'CONNECTED' | 'DISCONNECTED';

export interface AgentRecord {
  id: string;
  name: string;
  mode: string;
  status: AgentStatus;
  metadata: Record<string, string>;
  lastSeenAt: Date | null;
  createdAt: Date;
}

const COLUMNS = ['id', 'name', 'mode', 'status', 'metadata', 'last_seen_at', 'created_at'] as const;

function fromRow(row: Pick<Selectable<AgentsTable>, (typeof COLUMNS)[number]>): AgentRecord {
  return {
    id: row.id,
    name: row.name,
    mode: row.mode,
    status: row.status === 'CONNECTED' ? 'CONNECTED' : 'DISCONNECTED',
    metadata: row.metadata,
    lastSeenAt: row.last_seen_at,
    createdAt: row.created_at,
  };
}

/** `gatewayId` names the gateway this store speaks for: it owns the streams it marks connected. */
export function createAgentStore(db: Db, gatewayId: string) {
  return {
    async insert(agent: { id: string; name: string; mode: string; keyHash: string }): Promise<boolean> {
      const result = await db
        .insertInto('agents')
        .values({ id: agent.id, name: agent.name, mode: agent.mode, key_hash: agent.keyHash, metadata: '{}' })
        .onConflict((oc) => oc.column('name').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    async replaceKey(name: string, keyHash: string): Promise<AgentRecord | undefined> {
      const row = await db.updateTable('agents').set({ key_hash: keyHash }).where('name', '=', name).returning(COLUMNS).executeTakeFirst();
      return row && fromRow(row);
    },

    async findByNameOrId(nameOrId: string): Promise<AgentRecord | undefined> {
      const row = await db
        .selectFrom('agents')
        .select(COLUMNS)
        .where((eb) => (UUID.test(nameOrId) ? eb.or([eb('name', '=', nameOrId), eb('id', '=', nameOrId)]) : eb('name', '=', nameOrId)))
        .executeTakeFirst();
      return row && fromRow(row);
    },

    async findByKeyHash(keyHash: string): Promise<AgentRecord | undefined> {
      const row = await db.selectFrom('agents').select(COLUMNS).where('key_hash', '=', keyHash).executeTakeFirst();
      return row && fromRow(row);
    },

    async list(status?: AgentStatus): Promise<AgentRecord[]> {
      let query = db.selectFrom('agents').select(COLUMNS).orderBy('name');
      if (status) query = query.where('status', '=', status);
      return (await query.execute()).map(fromRow);
    },

    async deleteById(id: string): Promise<void> {
      await db.deleteFrom('agents').where('id', '=', id).execute();
    },

    async markConnected(id: string, metadata: Record<string, string>): Promise<void> {
      await db
        .updateTable('agents')
        .set({ status: 'CONNECTED', metadata: JSON.stringify(metadata), last_seen_at: new Date(), gateway_id: gatewayId })
        .where('id', '=', id)
        .execute();
    },

    async touch(id: string): Promise<void> {
      await db.updateTable('agents').set({ last_seen_at: new Date() }).where('id', '=', id).execute();
    },

    async markDisconnected(id: string): Promise<void> {
      await db
        .updateTable('agents')
        .set({ status: 'DISCONNECTED', last_seen_at: new Date() })
        .where('id', '=', id)
        .where('gateway_id', '=', gatewayId)
        .execute();
    },

    /** At start-up: no stream survives a restart of the gateway that held it. */
    async markOwnDisconnected(): Promise<void> {
      await db
        .updateTable('agents')
        .set({ status: 'DISCONNECTED' })
        .where('status', '=', 'CONNECTED')
        .where((eb) => eb.or([eb('gateway_id', '=', gatewayId), eb('gateway_id', 'is', null)]))
        .execute();
    },
  };
}

export type AgentStore = ReturnType<typeof createAgentStore>;
