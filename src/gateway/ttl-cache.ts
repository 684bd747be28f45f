/**
 * A small in-memory cache whose entries expire after `ttlMs`, for lookups on every request
 * (API keys, connections). Writes through this gateway clear it; writes through another
 * gateway sharing the store are seen once an entry expires.
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
