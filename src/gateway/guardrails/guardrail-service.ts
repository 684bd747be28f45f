import { randomUUID } from 'node:crypto';
import { BadRequestError, ConflictError, NotFoundError } from '../../errors.js';
import { compileGuardrails, GuardrailRuleError, validateRuleSet, type CompiledGuardrails } from '../../guardrails/index.js';
import type { ConnectionRecord } from '../connections/connection-types.js';
import { createTtlCache, LOOKUP_CACHE_TTL_MS } from '../ttl-cache.js';
import type { GuardrailStore, GuardrailWrite } from './guardrail-store.js';
import type { Guardrail, GuardrailRecord, GuardrailRequest } from './guardrail-types.js';
import { UUID } from '../ids.js';

const NAME_MAX_CHARS = 128;
/** Compiled rule sets kept for reuse; a rule's change gives it a new key, so stale entries only age out. */
const COMPILED_CACHE_ENTRIES = 256;

function view(rule: GuardrailRecord): Guardrail {
  return {
    id: rule.id,
    name: rule.name,
    description: rule.description,
    input: rule.input,
    output: rule.output,
    connection_ids: rule.connectionIds,
    attributes: rule.attributes,
    managed_by: null,
    created_at: rule.createdAt.toISOString(),
    updated_at: rule.updatedAt.toISOString(),
  };
}

/** Rule sets are checked when saved (regex syntax included), so a session never meets a broken rule. */
function toWrite(id: string, request: GuardrailRequest): GuardrailWrite {
  if (!request.name || request.name.length > NAME_MAX_CHARS) throw new BadRequestError(`name is required, at most ${NAME_MAX_CHARS} characters`);
  try {
    return {
      id,
      name: request.name,
      description: request.description ?? '',
      input: validateRuleSet(request.input ?? { rules: [] }, 'input'),
      output: validateRuleSet(request.output ?? { rules: [] }, 'output'),
      attributes: request.attributes ?? [],
      connectionIds: [...new Set((request.connection_ids ?? []).filter((c) => UUID.test(c)).map((c) => c.toLowerCase()))],
    };
  } catch (error) {
    if (error instanceof GuardrailRuleError) throw new BadRequestError((error as Error).message);
    throw error;
  }
}

export interface GuardrailServiceDeps {
  store: Pick<GuardrailStore, 'list' | 'find' | 'create' | 'update' | 'delete' | 'rulesForConnection'>;
}

export function createGuardrailService(deps: GuardrailServiceDeps) {
  const compiled = new Map<string, CompiledGuardrails>();
  // Read on every exec: cached like connections (a change through another gateway applies
  // within the TTL; through this one, at once).
  const recent = createTtlCache<CompiledGuardrails | undefined>(LOOKUP_CACHE_TTL_MS, 1000);

  async function resolveGuardrails(connection: ConnectionRecord): Promise<CompiledGuardrails | undefined> {
    const rules = await deps.store.rulesForConnection(connection.id, connection.attributes);
    if (rules.length === 0) return undefined;
    const key = rules.map((r) => `${r.id}@${r.updatedAt.getTime()}`).join(',');
    let guardrails = compiled.get(key);
    if (!guardrails) {
      guardrails = compileGuardrails(rules.map((r) => ({ name: r.name, input: r.input, output: r.output })));
      if (compiled.size >= COMPILED_CACHE_ENTRIES) compiled.delete(compiled.keys().next().value!);
      compiled.set(key, guardrails);
    }
    return guardrails.hasInputRules || guardrails.hasOutputRules ? guardrails : undefined;
  }

  async function get(id: string): Promise<Guardrail> {
    const rule = UUID.test(id) ? await deps.store.find(id) : undefined;
    if (!rule) throw new NotFoundError('resource not found');
    return view(rule);
  }

  return {
    async list(): Promise<Guardrail[]> {
      return (await deps.store.list()).map(view);
    },

    get,

    async create(request: GuardrailRequest): Promise<Guardrail> {
      const rule = toWrite(randomUUID(), request);
      if ((await deps.store.create(rule)) === 'conflict') throw new ConflictError('resource already exists');
      recent.clear();
      return get(rule.id);
    },

    async update(id: string, request: GuardrailRequest): Promise<Guardrail> {
      if (!UUID.test(id)) throw new NotFoundError('resource not found');
      const outcome = await deps.store.update(toWrite(id.toLowerCase(), request));
      if (outcome === 'conflict') throw new ConflictError('resource already exists');
      if (!outcome) throw new NotFoundError('resource not found');
      recent.clear();
      return get(id);
    },

    async delete(id: string): Promise<void> {
      if (!UUID.test(id) || !(await deps.store.delete(id))) throw new NotFoundError('resource not found');
      recent.clear();
    },

    /** The guard rails a session on this connection must pass, or undefined when it has none. */
    async guardrailsFor(connection: ConnectionRecord): Promise<CompiledGuardrails | undefined> {
      const key = JSON.stringify([connection.id, connection.attributes, connection.guardrailRules]);
      return recent.getOrLoad(key, () => resolveGuardrails(connection));
    },
  };
}

export type GuardrailService = ReturnType<typeof createGuardrailService>;
