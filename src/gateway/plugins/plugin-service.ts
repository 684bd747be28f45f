import { BadRequestError, NotFoundError, UnprocessableError } from '../../errors.js';
import { ACCESS_CONTROL_PLUGIN } from './access-control.js';
import type { PluginRecord, PluginStore } from './plugin-store.js';
import type { PluginConnectionView, PluginInput, PluginView } from './plugin-types.js';

export interface PluginServiceDeps {
  store: Pick<PluginStore, 'find' | 'list' | 'create' | 'upsertConnection' | 'deleteConnection'>;
  /** Any connection by name or id, whoever asks: plugins are administered by admins. */
  findConnection(nameOrId: string): Promise<{ id: string; name: string } | undefined>;
  /** Called after a change, so access decisions use it at once. */
  onChange(): void;
}

const SUPPORTED = [ACCESS_CONTROL_PLUGIN];
const PLUGIN_OR_CONNECTION_MISSING = 'either the plugin or the connection does not exist';

function view(plugin: PluginRecord): PluginView {
  return {
    id: plugin.id,
    name: plugin.name,
    connections: plugin.connections.map((c) => ({ id: c.connectionId, name: c.connectionName, config: c.config })),
    config: null,
    priority: 0,
    source: null,
  };
}

/** Plugins as hoop's API shapes them; only access_control exists here so far. */
export function createPluginService(deps: PluginServiceDeps) {
  async function find(name: string): Promise<PluginRecord> {
    const plugin = await deps.store.find(name);
    if (!plugin) throw new NotFoundError('plugin not found');
    return plugin;
  }

  async function connectionOf(nameOrId: string): Promise<{ id: string; name: string }> {
    const connection = await deps.findConnection(nameOrId);
    if (!connection) throw new NotFoundError(PLUGIN_OR_CONNECTION_MISSING);
    return connection;
  }

  async function getConnection(name: string, connectionRef: string): Promise<PluginConnectionView> {
    const plugin = await find(name);
    const connection = await connectionOf(connectionRef);
    const entry = plugin.connections.find((c) => c.connectionId === connection.id);
    if (!entry) throw new NotFoundError(PLUGIN_OR_CONNECTION_MISSING);
    return { id: entry.id, plugin_id: plugin.id, connection_id: entry.connectionId, config: entry.config, updated_at: entry.updatedAt.toISOString() };
  }

  return {
    async list(): Promise<PluginView[]> {
      return (await deps.store.list()).map(view);
    },

    async get(name: string): Promise<PluginView> {
      return view(await find(name));
    },

    async create(input: PluginInput): Promise<PluginView> {
      if (!SUPPORTED.includes(input.name)) throw new UnprocessableError(`plugin ${input.name} is not supported (supported: ${SUPPORTED.join(', ')})`);
      const connections = [];
      for (const entry of input.connections) {
        const reference = entry.id || entry.name;
        if (!reference) throw new BadRequestError('each connection needs an id or a name');
        const connection = await deps.findConnection(reference);
        if (!connection) throw new UnprocessableError(`connection ${reference} not found`);
        connections.push({ connectionId: connection.id, config: entry.config });
      }
      if (!(await deps.store.create(input.name, connections))) throw new BadRequestError('plugin already enabled');
      deps.onChange();
      return view(await find(input.name));
    },

    getConnection,

    async upsertConnection(name: string, connectionRef: string, config: string[]): Promise<PluginConnectionView> {
      if (name === 'review' || name === 'dlp') throw new BadRequestError('unable to manage review or dlp plugins, use the connection endpoint instead');
      if (!(await deps.store.find(name))) throw new NotFoundError(PLUGIN_OR_CONNECTION_MISSING);
      const connection = await connectionOf(connectionRef);
      await deps.store.upsertConnection(name, connection.id, config);
      deps.onChange();
      return getConnection(name, connection.id);
    },

    async deleteConnection(name: string, connectionRef: string): Promise<void> {
      const connection = await connectionOf(connectionRef);
      if (!(await deps.store.deleteConnection(name, connection.id))) throw new NotFoundError(PLUGIN_OR_CONNECTION_MISSING);
      deps.onChange();
    },
  };
}

export type PluginService = ReturnType<typeof createPluginService>;
