import { randomUUID } from 'node:crypto';
import { isUniqueViolation, type Db } from '../store/db.js';

export interface PluginConnectionRecord {
  id: string;
  connectionId: string;
  connectionName: string;
  config: string[];
  updatedAt: Date;
}

export interface PluginRecord {
  id: string;
  name: string;
  connections: PluginConnectionRecord[];
}

export function createPluginStore(db: Db) {
  async function connectionsOf(pluginName: string): Promise<PluginConnectionRecord[]> {
    const rows = await db
      .selectFrom('plugin_connections as pc')
      .innerJoin('connections as c', 'c.id', 'pc.connection_id')
      .select(['pc.id', 'pc.connection_id', 'c.name', 'pc.config', 'pc.updated_at'])
      .where('pc.plugin_name', '=', pluginName)
      .orderBy('c.name')
      .execute();
    return rows.map((r) => ({ id: r.id, connectionId: r.connection_id, connectionName: r.name, config: r.config, updatedAt: r.updated_at }));
  }

  return {
    async find(name: string): Promise<PluginRecord | undefined> {
      const row = await db.selectFrom('plugins').select(['id', 'name']).where('name', '=', name).executeTakeFirst();
      return row && { ...row, connections: await connectionsOf(row.name) };
    },

    async list(): Promise<PluginRecord[]> {
      const rows = await db.selectFrom('plugins').select(['id', 'name']).orderBy('name').execute();
      return Promise.all(rows.map(async (row) => ({ ...row, connections: await connectionsOf(row.name) })));
    },

    /** Creates the plugin with its connections; false when it exists already. */
    async create(name: string, connections: { connectionId: string; config: string[] }[]): Promise<boolean> {
      try {
        await db.transaction().execute(async (trx) => {
          await trx.insertInto('plugins').values({ id: randomUUID(), name }).execute();
          if (connections.length) {
            await trx
              .insertInto('plugin_connections')
              .values(connections.map((c) => ({ id: randomUUID(), plugin_name: name, connection_id: c.connectionId, config: c.config, updated_at: new Date() })))
              .execute();
          }
        });
        return true;
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    },

    async upsertConnection(pluginName: string, connectionId: string, config: string[]): Promise<void> {
      await db
        .insertInto('plugin_connections')
        .values({ id: randomUUID(), plugin_name: pluginName, connection_id: connectionId, config, updated_at: new Date() })
        .onConflict((oc) => oc.columns(['plugin_name', 'connection_id']).doUpdateSet({ config, updated_at: new Date() }))
        .execute();
    },

    async deleteConnection(pluginName: string, connectionId: string): Promise<boolean> {
      const result = await db
        .deleteFrom('plugin_connections')
        .where('plugin_name', '=', pluginName)
        .where('connection_id', '=', connectionId)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

export type PluginStore = ReturnType<typeof createPluginStore>;
