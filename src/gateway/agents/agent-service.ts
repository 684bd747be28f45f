import { randomBytes, randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, UnprocessableError } from '../../errors.js';
import { formatAgentDsn } from '../../wire/agent-dsn.js';
import { sha256Hex } from '../auth/auth-service.js';
import { isValidResourceName, RESOURCE_NAME_MESSAGE } from '../connections/connection-service.js';
import type { AgentRecord, AgentStatus, AgentStore } from './agent-store.js';

const AGENT_MODES = ['standard', 'embedded'];

export function newAgentSecret(): string {
  return 'xagt-' + randomBytes(32).toString('base64url');
}

export interface AgentView {
  id: string;
  token: string;
  name: string;
  mode: string;
  status: AgentStatus;
  metadata: Record<string, string>;
  hostname: string;
  platform: string;
  version: string;
  kernel_version: string;
  machine_id: string;
  goversion: string;
  compiler: string;
  last_seen_at: string | null;
}

function toView(agent: AgentRecord): AgentView {
  const meta = agent.metadata;
  return {
    id: agent.id,
    token: '',
    name: agent.name,
    mode: agent.mode,
    status: agent.status,
    metadata: meta,
    hostname: meta.hostname ?? '',
    platform: meta.platform ?? '',
    version: meta.version ?? '',
    kernel_version: meta['kernel-version'] ?? '',
    machine_id: '',
    goversion: '',
    compiler: meta['runtime-version'] ?? '',
    last_seen_at: agent.lastSeenAt ? agent.lastSeenAt.toISOString() : null,
  };
}

export function createAgentService(deps: {
  store: Pick<AgentStore, 'insert' | 'replaceKey' | 'findByNameOrId' | 'list' | 'deleteById'>;
  /** The gRPC URL agents dial, written into their tokens. */
  grpcUrl: string;
  /** Drops the live stream of a revoked agent. */
  disconnect(agentId: string, reason: string): void;
}) {
  const { store } = deps;

  return {
    async create(input: { name: string; mode?: string }): Promise<{ token: string }> {
      if (!isValidResourceName(input.name)) throw new UnprocessableError(RESOURCE_NAME_MESSAGE);
      const mode = input.mode ?? 'standard';
      if (!AGENT_MODES.includes(mode)) throw new UnprocessableError(`unknown agent mode "${mode}"`);
      const secret = newAgentSecret();
      const inserted = await store.insert({ id: randomUUID(), name: input.name, mode, keyHash: sha256Hex(secret) });
      if (!inserted) throw new ConflictError('resource already exists');
      return { token: formatAgentDsn(deps.grpcUrl, input.name, secret, mode) };
    },

    /**
     * The token of a gateway-managed agent (the embedded one): created on first use, its key
     * replaced on every later call, so the token lives only in memory.
     */
    async issueManagedToken(name: string, mode: string): Promise<{ agentId: string; token: string }> {
      const secret = newAgentSecret();
      const keyHash = sha256Hex(secret);
      let agent = await store.replaceKey(name, keyHash);
      if (!agent) {
        await store.insert({ id: randomUUID(), name, mode, keyHash });
        agent = await store.replaceKey(name, keyHash);
      }
      return { agentId: agent!.id, token: formatAgentDsn(deps.grpcUrl, name, secret, mode) };
    },

    async list(status?: AgentStatus): Promise<AgentView[]> {
      return (await store.list(status)).map(toView);
    },

    async get(nameOrId: string): Promise<AgentView> {
      const agent = await store.findByNameOrId(nameOrId);
      if (!agent) throw new NotFoundError('agent not found');
      return toView(agent);
    },

    async remove(nameOrId: string): Promise<void> {
      const agent = await store.findByNameOrId(nameOrId);
      if (!agent) throw new NotFoundError('agent not found');
      await store.deleteById(agent.id);
      deps.disconnect(agent.id, 'agent key revoked');
    },
  };
}

export type AgentService = ReturnType<typeof createAgentService>;
