/**
 * A small in-memory cache whose entries expire after `ttlMs`, for lookups on every request
 * (API keys, connections, the masking and guard rails of a connection). Writes through this
 * gateway clear it; writes through another gateway sharing the store are seen once an entry
 * expires.
 */
export function createTtlCache<V>(ttlMs: number, maxEntries: number) {
  const entries = new Map<string, { value: V; expiresAt: number }>();
  return {
    get(key: string): V | undefined {
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.expiresAt <= Date.now()) {
        entries.delete(key);
        return undefined;
      }
      return entry.value;
    },
    /** The cached value, or what `load` gives (cached too, `undefined` included). */
    async getOrLoad(key: string, load: () => Promise<V>): Promise<V> {
      const entry = entries.get(key);
      if (entry && entry.expiresAt > Date.now()) return entry.value;
      const value = await load();
      this.set(key, value);
      return value;
    },
    set(key: string, value: V): void {
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(key, { value, expiresAt: Date.now() + ttlMs });
    },
    clear(): void {
      entries.clear();
    },
  };
}

/** How long a cached API key or connection may be served after a change made elsewhere. */
export const LOOKUP_CACHE_TTL_MS = 1000;
