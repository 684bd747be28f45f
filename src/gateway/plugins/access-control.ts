import { isAdmin, isAuditor, type Identity } from '../auth/identity.js';
import { createTtlCache, LOOKUP_CACHE_TTL_MS } from '../ttl-cache.js';
import type { PluginStore } from './plugin-store.js';

export const ACCESS_CONTROL_PLUGIN = 'access_control';

/**
 * Which connections an identity may see and use. Without the access_control plugin, every
 * connection; with it, admins and auditors still see all, and anyone else only the connections
 * bound to one of their groups (a connection bound to none is hidden from them).
 */
export function createAccessControl(deps: { plugins: Pick<PluginStore, 'find'> }) {
  // Checked on every connection lookup: the bindings are cached like connections themselves.
  const cache = createTtlCache<{ bindings: Map<string, string[]> | undefined }>(LOOKUP_CACHE_TTL_MS, 1);

  async function bindings(): Promise<Map<string, string[]> | undefined> {
    const cached = cache.get(ACCESS_CONTROL_PLUGIN);
    if (cached) return cached.bindings;
    const plugin = await deps.plugins.find(ACCESS_CONTROL_PLUGIN);
    const loaded = plugin && new Map(plugin.connections.map((c) => [c.connectionId, c.config]));
    cache.set(ACCESS_CONTROL_PLUGIN, { bindings: loaded });
    return loaded;
  }

  return {
    async canUse(identity: Identity, connectionId: string): Promise<boolean> {
      if (isAdmin(identity) || isAuditor(identity)) return true;
      const bound = await bindings();
      if (!bound) return true;
      const groups = bound.get(connectionId) ?? [];
      return groups.some((group) => identity.groups.includes(group));
    },

    /** After a plugin change on this gateway: applies at once. */
    forget(): void {
      cache.clear();
    },
  };
}

export type AccessControl = ReturnType<typeof createAccessControl>;
