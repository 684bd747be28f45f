import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, UnprocessableError } from '../../errors.js';
import { maskApiKey, newApiKey, sha256Hex } from '../auth/auth-service.js';
import type { Identity } from '../auth/identity.js';
import type { ApiKeyDetails, ApiKeyStore } from './api-key-store.js';
import type { ApiKeyCreated, ApiKeyCreateRequest, ApiKeyUpdateRequest, ApiKeyView } from './api-key-types.js';

export interface ApiKeyServiceDeps {
  store: Pick<ApiKeyStore, 'insert' | 'list' | 'find' | 'update' | 'setRevoked'>;
  /** Called after a key changes, so a revoked key stops working at once. */
  onChange(): void;
}

function view(key: ApiKeyDetails): ApiKeyView {
  return {
    id: key.id,
    org_id: '',
    name: key.name,
    masked_key: key.maskedKey,
    status: key.revokedAt ? 'revoked' : 'active',
    groups: key.groups,
    created_by: key.createdBy,
    created_at: key.createdAt.toISOString(),
    ...(key.revokedAt ? { deactivated_at: key.revokedAt.toISOString(), deactivated_by: key.revokedBy ?? '' } : {}),
    ...(key.lastUsedAt ? { last_used_at: key.lastUsedAt.toISOString() } : {}),
  };
}

const NAME_TAKEN = 'an api key with this name already exists';

/**
 * API keys as identities for automation: a key acts as an identity named after it, with the
 * key's groups (so "admin" makes an admin key). Only the key's SHA-256 is stored.
 */
export function createApiKeyService(deps: ApiKeyServiceDeps) {
  async function find(nameOrId: string): Promise<ApiKeyDetails> {
    const key = await deps.store.find(nameOrId);
    if (!key) throw new NotFoundError('resource not found');
    return key;
  }

  return {
    async create(creator: Identity, request: ApiKeyCreateRequest): Promise<ApiKeyCreated> {
      const key = newApiKey();
      const id = randomUUID();
      const inserted = await deps.store.insert({
        id,
        name: request.name,
        keyHash: sha256Hex(key),
        maskedKey: maskApiKey(key),
        createdBy: creator.email,
        userId: id,
        userEmail: request.name,
        userName: request.name,
        groups: request.groups ?? [],
      });
      if (!inserted) throw new ConflictError(NAME_TAKEN);
      return { ...view(await find(id)), key };
    },

    async list(): Promise<ApiKeyView[]> {
      return (await deps.store.list()).map(view);
    },

    async get(nameOrId: string): Promise<ApiKeyView> {
      return view(await find(nameOrId));
    },

    async update(nameOrId: string, request: ApiKeyUpdateRequest): Promise<ApiKeyView> {
      const key = await find(nameOrId);
      const updated = await deps.store.update(key.id, { name: request.name ?? key.name, groups: request.groups ?? key.groups });
      if (!updated) throw new ConflictError(NAME_TAKEN);
      deps.onChange();
      return view(await find(key.id));
    },

    /** Revokes a key; it stops working at once. A revoked key is not found again. */
    async revoke(revoker: Identity, nameOrId: string): Promise<void> {
      const key = await find(nameOrId);
      if (key.revokedAt) throw new NotFoundError('resource not found');
      await deps.store.setRevoked(key.id, revoker.email);
      deps.onChange();
    },

    async reactivate(nameOrId: string): Promise<ApiKeyView> {
      const key = await find(nameOrId);
      if (!key.revokedAt) throw new UnprocessableError('cannot reactivate an active api key');
      await deps.store.setRevoked(key.id, null);
      deps.onChange();
      return view(await find(key.id));
    },
  };
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>;
