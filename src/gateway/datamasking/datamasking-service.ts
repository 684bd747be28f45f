import { randomUUID } from 'node:crypto';
import { BadRequestError, ConflictError, NotFoundError } from '../../errors.js';
import { createMaskingStream, resolveEntityTypes, BUILT_IN_ENTITY_TYPES, type CustomEntityType, type MaskingOptions } from '../../masking/index.js';
import type { ConnectionRecord } from '../connections/connection-types.js';
import { createTtlCache, LOOKUP_CACHE_TTL_MS } from '../ttl-cache.js';
import type { DataMaskingStore } from './datamasking-store.js';
import type {
  DataMaskingRule,
  DataMaskingRuleConnection,
  DataMaskingRuleConnectionRequest,
  DataMaskingRuleRecord,
  DataMaskingRuleRequest,
} from './datamasking-types.js';
import { UUID } from '../ids.js';

const ENTITY_TYPE = /^[A-Z0-9_]+$/;
const NAME_MAX_CHARS = 128;

function checkUppercaseName(name: string, what: string): void {
  if (name !== name.toUpperCase()) throw new BadRequestError(`${what} name must be uppercase: ${name}`);
}

/**
 * Refuses entity types the engine cannot detect: a rule naming PERSON that silently masks nothing
 * would be a leak nobody notices.
 */
function validate(request: DataMaskingRuleRequest): void {
  if (!request.name || request.name.length > NAME_MAX_CHARS) throw new BadRequestError(`name is required, at most ${NAME_MAX_CHARS} characters`);
  const threshold = request.score_threshold;
  if (threshold !== undefined && threshold !== null && !(Number.isFinite(threshold) && threshold >= 0 && threshold <= 1)) {
    throw new BadRequestError('score threshold must be between 0 and 1');
  }
  for (const id of request.connection_ids ?? []) {
    if (!UUID.test(id)) throw new BadRequestError(`invalid connection ID ${id}`);
  }
  for (const entry of request.supported_entity_types ?? []) {
    if (!entry.name || entry.entity_types.length === 0) throw new BadRequestError('missing entity types or name in supported entity types');
    checkUppercaseName(entry.name, 'entity type');
    for (const type of entry.entity_types) {
      if (!ENTITY_TYPE.test(type)) throw new BadRequestError(`entity type must contain only uppercase letters, digits, or underscores: "${type}"`);
    }
    const { unsupported } = resolveEntityTypes(entry.entity_types);
    if (unsupported.length) {
      throw new BadRequestError(`supported_entity_types ${entry.name}: not supported by the masking engine: ${unsupported.join(', ')} (supported: ${BUILT_IN_ENTITY_TYPES.join(', ')}, or their Presidio spellings)`);
    }
  }
  for (const entry of request.custom_entity_types ?? []) {
    if (!entry.name || (!entry.regex && !(entry.deny_list ?? []).length)) {
      throw new BadRequestError('missing name, deny_list or regex in custom entity types');
    }
    checkUppercaseName(entry.name, 'custom entity type');
    if (!ENTITY_TYPE.test(entry.name)) throw new BadRequestError(`entity type must contain only uppercase letters, digits, or underscores: "${entry.name}"`);
    try {
      createMaskingStream({ entityTypes: [], customEntityTypes: [entry] });
    } catch (error) {
      throw new BadRequestError(`custom entity type ${entry.name}: invalid regex: ${(error as Error).message}`);
    }
  }
}

function view(rule: DataMaskingRuleRecord): DataMaskingRule {
  return {
    id: rule.id,
    managed_by: null,
    name: rule.name,
    description: rule.description,
    connection_ids: rule.connectionIds,
    attributes: rule.attributes,
    supported_entity_types: rule.supportedEntityTypes,
    custom_entity_types: rule.customEntityTypes,
    score_threshold: rule.scoreThreshold,
    updated_at: rule.updatedAt.toISOString(),
  };
}

export interface DataMaskingServiceDeps {
  store: Pick<
    DataMaskingStore,
    'list' | 'find' | 'create' | 'update' | 'delete' | 'existingConnectionIds' | 'existingRuleIds' | 'replaceConnectionBindings' | 'rulesForConnection'
  >;
  findConnection(nameOrId: string): Promise<ConnectionRecord | undefined>;
  mode: NonNullable<MaskingOptions['mode']>;
}

export function createDataMaskingService(deps: DataMaskingServiceDeps) {
  // Read on every exec: cached like connections (a change through another gateway applies
  // within the TTL; through this one, at once).
  const recent = createTtlCache<MaskingOptions | undefined>(LOOKUP_CACHE_TTL_MS, 1000);

  /** `redact_types` plus every rule that applies to the connection; undefined when nothing does. */
  async function resolveMasking(connection: ConnectionRecord): Promise<MaskingOptions | undefined> {
    const rules = await deps.store.rulesForConnection(connection.id, connection.attributes);
    const entityTypes = new Set(connection.redactTypes);
    const custom = new Map<string, CustomEntityType>();
    for (const rule of rules) {
      for (const entry of rule.supportedEntityTypes) for (const type of entry.entity_types) entityTypes.add(type);
      for (const entry of rule.customEntityTypes) if (!custom.has(entry.name)) custom.set(entry.name, entry);
    }
    if (entityTypes.size === 0 && custom.size === 0) return undefined;
    return { entityTypes: [...entityTypes], customEntityTypes: [...custom.values()], mode: deps.mode };
  }

  async function checkConnections(ids: string[]): Promise<string[]> {
    const unique = [...new Set(ids)];
    const existing = await deps.store.existingConnectionIds(unique);
    if (unique.some((id) => !existing.has(id))) {
      throw new BadRequestError('connection not found: a connection reference in the connection_ids field does not exist');
    }
    return unique;
  }

  async function toWrite(id: string, request: DataMaskingRuleRequest) {
    validate(request);
    return {
      id,
      name: request.name,
      description: request.description ?? '',
      supportedEntityTypes: request.supported_entity_types ?? [],
      customEntityTypes: request.custom_entity_types ?? [],
      scoreThreshold: request.score_threshold ?? null,
      attributes: request.attributes ?? [],
      connectionIds: await checkConnections((request.connection_ids ?? []).map((c) => c.toLowerCase())),
    };
  }

  async function get(id: string): Promise<DataMaskingRule> {
    const rule = UUID.test(id) ? await deps.store.find(id) : undefined;
    if (!rule) throw new NotFoundError('resource not found');
    return view(rule);
  }

  return {
    async list(): Promise<DataMaskingRule[]> {
      return (await deps.store.list()).map(view);
    },

    get,

    async create(request: DataMaskingRuleRequest): Promise<DataMaskingRule> {
      const rule = await toWrite(randomUUID(), request);
      if (!(await deps.store.create(rule))) throw new ConflictError('resource already exists');
      recent.clear();
      return get(rule.id);
    },

    /** The name is immutable: the stored one is kept whatever the request says. */
    async update(id: string, request: DataMaskingRuleRequest): Promise<DataMaskingRule> {
      const existing = UUID.test(id) ? await deps.store.find(id) : undefined;
      if (!existing) throw new NotFoundError('resource not found');
      const rule = await toWrite(existing.id, request);
      if (!(await deps.store.update({ ...rule, name: existing.name }))) throw new NotFoundError('resource not found');
      recent.clear();
      return get(existing.id);
    },

    async delete(id: string): Promise<void> {
      if (!UUID.test(id) || !(await deps.store.delete(id))) throw new NotFoundError('resource not found');
      recent.clear();
    },

    /** Replaces a connection's bindings (active and inactive) with the request's. */
    async replaceConnectionRules(nameOrId: string, request: DataMaskingRuleConnectionRequest[]): Promise<DataMaskingRuleConnection[]> {
      const connection = await deps.findConnection(nameOrId);
      if (!connection) throw new NotFoundError('connection not found');
      const byRule = new Map<string, 'active' | 'inactive'>();
      for (const entry of request) {
        if (!UUID.test(entry.rule_id)) throw new BadRequestError(`invalid rule ID ${entry.rule_id}`);
        byRule.set(entry.rule_id.toLowerCase(), entry.status);
      }
      const existing = await deps.store.existingRuleIds([...byRule.keys()]);
      const missing = [...byRule.keys()].filter((id) => !existing.has(id));
      if (missing.length) throw new BadRequestError(`data masking rule not found: ${missing.join(', ')}`);
      const bindings = await deps.store.replaceConnectionBindings(
        connection.id,
        [...byRule].map(([ruleId, status]) => ({ ruleId, status })),
      );
      recent.clear();
      return bindings.map((b) => ({ id: b.id, rule_id: b.ruleId, connection_id: b.connectionId, status: b.status }));
    },

    /** What masks a session's output on this connection, undefined when nothing does. */
    async maskingFor(connection: ConnectionRecord): Promise<MaskingOptions | undefined> {
      const key = JSON.stringify([connection.id, connection.attributes, connection.redactTypes]);
      return recent.getOrLoad(key, () => resolveMasking(connection));
    },
  };
}

export type DataMaskingService = ReturnType<typeof createDataMaskingService>;
