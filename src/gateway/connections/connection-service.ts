import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, ServerConfigurationError, UnprocessableError } from '../../errors.js';
import { resolveEntityTypes } from '../../masking/index.js';
import type { Identity } from '../auth/identity.js';
import type { AccessControl } from '../plugins/access-control.js';
import type { Sealer } from '../secrets/sealer.js';
import { createTtlCache, LOOKUP_CACHE_TTL_MS } from '../ttl-cache.js';
import type { ConnectionStore } from './connection-store.js';
import { defaultDatabaseCommand } from './database-exec.js';
import type { Connection, ConnectionInput, ConnectionRecord, ConnectionWrite } from './connection-types.js';
import { UUID } from '../ids.js';

/** What GET shows in place of every secret value; sending it back keeps the stored value. */
export const REDACTED_SECRET = '*****';

const CONNECTION_TYPES = ['database', 'application', 'custom'];
const SECRET_KEY = /^(envvar|filesystem):([A-Za-z_][A-Za-z0-9_]*)$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const TAG_KEY = /^[a-zA-Z0-9_]+(?:[-./][a-zA-Z0-9_]+)*$/;
const TAG_VALUE = /^[a-zA-Z0-9\-_+=@/:\s]+$/;
const MAX_CONNECTION_TAGS = 10;

/**
 * Names of connections and agents: 3 to 254 characters, letters, digits and `_`, with single
 * `-` or `.` between them. Checked without the reference's backtracking regex.
 */
export function isValidResourceName(name: string): boolean {
  return (
    name.length <= 254 &&
    /^[a-zA-Z0-9_]+(?:[-.][a-zA-Z0-9_]+)*$/.test(name) &&
    name.replace(/[-.]/g, '').length >= 3
  );
}

export const RESOURCE_NAME_MESSAGE =
  'name: it must contain between 3 and 254 alphanumeric characters, it may include (-), (_) or (.) characters';

export type SecretMap = Record<string, string>;

function validate(input: ConnectionInput): string[] {
  const problems: string[] = [];
  if (!isValidResourceName(input.name)) problems.push(RESOURCE_NAME_MESSAGE);
  if (!CONNECTION_TYPES.includes(input.type)) {
    problems.push(`type: must be one of ${CONNECTION_TYPES.join(', ')}`);
  }
  if (!UUID.test(input.agent_id)) problems.push('agent_id: must be a UUID');
  for (const [key, value] of Object.entries(input.secret ?? {})) {
    if (!SECRET_KEY.test(key)) {
      problems.push(`secret: key "${key}" must be envvar:NAME or filesystem:NAME`);
    } else if (value !== REDACTED_SECRET && (typeof value !== 'string' || !BASE64.test(value))) {
      problems.push(`secret: the value of "${key}" must be a base64 string`);
    }
  }
  const tags = Object.entries(input.connection_tags ?? {});
  if (tags.length > MAX_CONNECTION_TAGS) problems.push(`max tag association reached (${MAX_CONNECTION_TAGS})`);
  for (const [key, value] of tags) {
    if (key.length > 64 || !TAG_KEY.test(key)) {
      problems.push(`connection_tags (${key}), keys must contain between 1 and 64 alphanumeric characters, it may include (-), (_), (/), or (.) characters`);
    }
    if (value.length > 256 || !TAG_VALUE.test(value)) {
      problems.push(`connection_tags (${key}), values must contain between 1 and 256 alphanumeric characters, it may include space, (-), (_), (/), (+), (@), (:) or (=) characters`);
    }
  }
  for (const mode of ['access_mode_runbooks', 'access_mode_exec', 'access_mode_connect', 'access_schema'] as const) {
    const value = input[mode];
    if (value !== undefined && value !== 'enabled' && value !== 'disabled') {
      problems.push(`${mode}: must be "enabled" or "disabled"`);
    }
  }
  if (input.min_review_approvals != null && input.min_review_approvals <= 0) {
    problems.push('min review approvals must be greater than 0 or null');
  }
  // A type the engine cannot detect would leave its values in clear without anyone noticing.
  const { unsupported } = resolveEntityTypes(input.redact_types ?? []);
  if (unsupported.length) problems.push(`redact_types: not supported by the masking engine: ${unsupported.join(', ')}`);
  return problems;
}

function sameSecrets(a: SecretMap, b: SecretMap): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

export function createConnectionService(deps: {
  store: Pick<ConnectionStore, 'findByNameOrId' | 'list' | 'insert' | 'update' | 'deleteByName'>;
  sealer: Sealer;
  /** Which connections an identity may see and use; a hidden one behaves as if it did not exist. */
  access: Pick<AccessControl, 'canUse'>;
}) {
  const { store, sealer, access } = deps;
  // Connections as the exec path reads them; any write here clears it.
  const recent = createTtlCache<ConnectionRecord>(LOOKUP_CACHE_TTL_MS, 1000);

  function openSecrets(record: Pick<ConnectionRecord, 'name' | 'secretSealed'>): SecretMap {
    if (!record.secretSealed) return {};
    try {
      return JSON.parse(sealer.open(record.secretSealed).toString('utf8')) as SecretMap;
    } catch {
      throw new ServerConfigurationError(
        `the secrets of connection ${record.name} cannot be decrypted: GATEHOUSE_SECRET_KEY is not the key they were stored with`,
      );
    }
  }

  /** Secrets as shown: keys with redacted values; unreadable secrets show as none. */
  function describeSecrets(record: ConnectionRecord): SecretMap {
    try {
      return openSecrets(record);
    } catch (error) {
      if (error instanceof ServerConfigurationError) return {};
      throw error;
    }
  }

  function sealSecrets(secrets: SecretMap): Buffer | null {
    return Object.keys(secrets).length ? sealer.seal(Buffer.from(JSON.stringify(secrets))) : null;
  }

  /** The request's secret map, with redacted values replaced by what is stored under that key. */
  function resolveSecrets(input: ConnectionInput, stored: SecretMap): SecretMap {
    const secrets: SecretMap = {};
    for (const [key, value] of Object.entries(input.secret ?? {})) {
      if (value === REDACTED_SECRET) {
        if (stored[key] === undefined) {
          throw new UnprocessableError(`secret: "${key}" has the redacted value but nothing is stored under it`);
        }
        secrets[key] = stored[key];
      } else {
        secrets[key] = value as string;
      }
    }
    return secrets;
  }

  function fromInput(input: ConnectionInput, id: string, secrets: SecretMap, secretsUpdatedAt: Date | null): ConnectionWrite {
    return {
      id,
      name: input.name,
      type: input.type,
      subtype: input.subtype ?? '',
      command: input.command?.length ? input.command : (defaultDatabaseCommand(input.type, input.subtype) ?? []),
      secretSealed: sealSecrets(secrets),
      agentId: input.agent_id,
      tags: input.tags ?? [],
      connectionTags: input.connection_tags ?? {},
      accessModeRunbooks: input.access_mode_runbooks ?? 'enabled',
      accessModeExec: input.access_mode_exec ?? 'enabled',
      accessModeConnect: input.access_mode_connect ?? 'enabled',
      accessSchema: input.access_schema ?? (input.type === 'database' ? 'enabled' : 'disabled'),
      reviewers: input.reviewers ?? [],
      redactTypes: input.redact_types ?? [],
      guardrailRules: input.guardrail_rules ?? [],
      jiraIssueTemplateId: input.jira_issue_template_id || null,
      forceApproveGroups: input.force_approve_groups ?? [],
      accessMaxDuration: input.access_max_duration ?? null,
      minReviewApprovals: input.min_review_approvals ?? null,
      mandatoryMetadataFields: input.mandatory_metadata_fields ?? [],
      attributes: input.attributes ?? [],
      secretsUpdatedAt,
    };
  }

  function toView(record: ConnectionRecord): Connection {
    const secrets = describeSecrets(record);
    const db = secrets['envvar:DB'];
    return {
      id: record.id,
      name: record.name,
      resource_name: record.name,
      type: record.type,
      subtype: record.subtype,
      command: record.command,
      secret: Object.fromEntries(Object.keys(secrets).map((key) => [key, REDACTED_SECRET])),
      default_database: db ? Buffer.from(db, 'base64').toString('utf8') : '',
      agent_id: record.agentId,
      status: record.agentStatus === 'CONNECTED' ? 'online' : 'offline',
      managed_by: null,
      reviewers: record.reviewers,
      redact_enabled: record.redactTypes.length > 0,
      redact_types: record.redactTypes,
      tags: record.tags,
      connection_tags: record.connectionTags,
      access_mode_runbooks: record.accessModeRunbooks,
      access_mode_exec: record.accessModeExec,
      access_mode_connect: record.accessModeConnect,
      access_schema: record.accessSchema,
      guardrail_rules: record.guardrailRules,
      jira_issue_template_id: record.jiraIssueTemplateId ?? '',
      force_approve_groups: record.forceApproveGroups,
      access_max_duration: record.accessMaxDuration,
      min_review_approvals: record.minReviewApprovals,
      mandatory_metadata_fields: record.mandatoryMetadataFields,
      attributes: record.attributes,
      ...(record.secretsUpdatedAt ? { secrets_updated_at: record.secretsUpdatedAt.toISOString() } : {}),
    };
  }

  async function get(nameOrId: string): Promise<ConnectionRecord> {
    const record = await store.findByNameOrId(nameOrId);
    if (!record) throw new NotFoundError('not found');
    return record;
  }

  return {
    /**
     * The stored record (secrets sealed) if the identity may use it, for the exec path; 404
     * semantics left to the caller.
     */
    async find(nameOrId: string, identity: Identity): Promise<ConnectionRecord | undefined> {
      let record = recent.get(nameOrId);
      if (!record) {
        record = await store.findByNameOrId(nameOrId);
        if (record) recent.set(nameOrId, record);
      }
      return record && (await access.canUse(identity, record.id)) ? record : undefined;
    },
    openSecrets,

    async create(input: ConnectionInput): Promise<Connection> {
      const problems = validate(input);
      if (problems.length) throw new UnprocessableError(problems.join('; '));
      if (await store.findByNameOrId(input.name)) throw new ConflictError('Connection already exists.');
      const secrets = resolveSecrets(input, {});
      const record = fromInput(input, randomUUID(), secrets, Object.keys(secrets).length ? new Date() : null);
      if (!(await store.insert(record))) throw new ConflictError('Connection already exists.');
      recent.clear();
      return toView(await get(record.id));
    },

    /** Creates the connection unless one of that name exists; answers whether it created it. */
    async ensure(input: ConnectionInput): Promise<boolean> {
      if (await store.findByNameOrId(input.name)) return false;
      const problems = validate(input);
      if (problems.length) throw new UnprocessableError(problems.join('; '));
      return store.insert(fromInput(input, randomUUID(), resolveSecrets(input, {}), null));
    },

    async update(nameOrId: string, input: ConnectionInput): Promise<Connection> {
      const existing = await get(nameOrId);
      const problems = validate({ ...input, name: existing.name });
      if (problems.length) throw new UnprocessableError(problems.join('; '));
      const stored = openSecrets(existing);
      const secrets = resolveSecrets(input, stored);
      const updatedAt = sameSecrets(stored, secrets) ? existing.secretsUpdatedAt : new Date();
      await store.update(fromInput({ ...input, name: existing.name }, existing.id, secrets, updatedAt));
      recent.clear();
      return toView(await get(existing.id));
    },

    async get(nameOrId: string, identity: Identity): Promise<Connection> {
      const record = await get(nameOrId);
      if (!(await access.canUse(identity, record.id))) throw new NotFoundError('not found');
      return toView(record);
    },

    async list(filter: { agentId?: string; type?: string; subtype?: string }, identity: Identity): Promise<Connection[]> {
      const records = await store.list(filter);
      const usable = await Promise.all(records.map((record) => access.canUse(identity, record.id)));
      return records.filter((_, index) => usable[index]).map(toView);
    },

    async remove(name: string): Promise<void> {
      const deleted = await store.deleteByName(name);
      recent.clear();
      if (!deleted) throw new NotFoundError('not found');
    },
  };
}

export type ConnectionService = ReturnType<typeof createConnectionService>;
