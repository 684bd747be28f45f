import { Type, type Static } from 'typebox';

const GroupList = Type.Array(Type.String(), { description: 'access_control: the groups that may see and use the connection' });

export const PluginConnectionInput = Type.Object({
  id: Type.Optional(Type.String({ description: 'Connection id (or give its name)' })),
  name: Type.Optional(Type.String({ description: 'Connection name' })),
  config: GroupList,
});

export const PluginInput = Type.Object({
  name: Type.String({ description: 'Only "access_control" is supported' }),
  connections: Type.Array(PluginConnectionInput),
});
export type PluginInput = Static<typeof PluginInput>;

export const PluginConnectionRequest = Type.Object({ config: GroupList });
export type PluginConnectionRequest = Static<typeof PluginConnectionRequest>;

export const PluginView = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    connections: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), config: Type.Array(Type.String()) })),
    config: Type.Null(),
    priority: Type.Integer(),
    source: Type.Null(),
  },
  { $id: 'Plugin' },
);
export type PluginView = Static<typeof PluginView>;

export const PluginConnectionView = Type.Object(
  {
    id: Type.String(),
    plugin_id: Type.String(),
    connection_id: Type.String(),
    config: Type.Array(Type.String()),
    updated_at: Type.String(),
  },
  { $id: 'PluginConnection' },
);
export type PluginConnectionView = Static<typeof PluginConnectionView>;
