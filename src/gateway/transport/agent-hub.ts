import { timingSafeEqual } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../log.js';
import { InvalidDsnError, parseAgentDsn } from '../../wire/agent-dsn.js';
import {
  agentTransportService,
  HEARTBEAT_INTERVAL_MS,
  MAX_MESSAGE_BYTES,
  METADATA_SESSION_ID,
  type AgentControl,
  type GatewayControlStream,
  type GatewaySessionStream,
} from '../../wire/transport.js';
import { sha256Hex } from '../auth/auth-service.js';
import type { AgentRecord, AgentStore } from '../agents/agent-store.js';

/**
 * The gRPC side of the gateway: authenticates agents, keeps one control stream per agent,
 * offers sessions to agents and hands the Session streams they open to whoever asked.
 */

interface LiveAgent {
  record: AgentRecord;
  keyHash: string;
  control: GatewayControlStream;
  sessionStreams: Set<GatewaySessionStream>;
  /** Warm Session streams the agent opened ahead of time, ready for the next session. */
  warmStreams: GatewaySessionStream[];
}

/** Warm streams kept per agent; the agent keeps one open, a few cover reconnect races. */
const MAX_WARM_STREAMS = 4;

interface PendingSession {
  agentId: string;
  resolve(stream: GatewaySessionStream): void;
}

export class AgentOfflineError extends Error {}

function sameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

export function createAgentHub(deps: {
  agents: Pick<AgentStore, 'findByKeyHash' | 'markConnected' | 'markDisconnected' | 'touch'>;
  log: Logger;
}) {
  const { log } = deps;
  const live = new Map<string, LiveAgent>();
  const connectWaiters = new Map<string, Set<() => void>>();
  const pendingSessions = new Map<string, PendingSession>();
  const disconnectListeners: Array<(agentId: string) => void> = [];

  /** The DSN's agent name and the hash of its secret, which is all the store keeps. */
  function presentedCredential(metadata: grpc.Metadata): { name: string; keyHash: string } {
    const header = String(metadata.get('authorization')[0] ?? '');
    const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
    try {
      const dsn = parseAgentDsn(token);
      return { name: dsn.name, keyHash: sha256Hex(dsn.secret) };
    } catch (error) {
      if (error instanceof InvalidDsnError) throw grpcError(grpc.status.UNAUTHENTICATED, 'invalid authentication');
      throw error;
    }
  }

  async function authenticate(metadata: grpc.Metadata): Promise<{ agent: AgentRecord; keyHash: string }> {
    const credential = presentedCredential(metadata);
    const agent = await deps.agents.findByKeyHash(credential.keyHash);
    if (!agent || agent.name !== credential.name) throw grpcError(grpc.status.UNAUTHENTICATED, 'invalid authentication');
    return { agent, keyHash: credential.keyHash };
  }

  function grpcError(code: grpc.status, details: string): Partial<grpc.ServiceError> {
    return { code, details, message: details };
  }

  function reject(call: GatewayControlStream | GatewaySessionStream, error: unknown): void {
    const status = (error as grpc.ServiceError).code !== undefined ? (error as grpc.ServiceError) : grpcError(grpc.status.INTERNAL, 'internal error');
    if (status.code === grpc.status.INTERNAL) log.error({ err: error }, 'agent stream failed');
    call.emit('error', status);
  }

  async function handleControl(call: GatewayControlStream): Promise<void> {
    let agent: AgentRecord;
    let keyHash: string;
    try {
      ({ agent, keyHash } = await authenticate(call.metadata));
    } catch (error) {
      reject(call, error);
      return;
    }
    if (live.has(agent.id)) {
      reject(call, grpcError(grpc.status.FAILED_PRECONDITION, 'agent already connected'));
      return;
    }
    const entry: LiveAgent = { record: agent, keyHash, control: call, sessionStreams: new Set(), warmStreams: [] };
    live.set(agent.id, entry);
    const heartbeat = setInterval(() => {
      call.write({ heartbeat: {} });
      void deps.agents.touch(agent.id).catch(() => {});
    }, HEARTBEAT_INTERVAL_MS);

    let registered = false;
    const onClosed = () => {
      clearInterval(heartbeat);
      if (live.get(agent.id) !== entry) return;
      live.delete(agent.id);
      for (const stream of [...entry.sessionStreams, ...entry.warmStreams]) stream.end();
      log.info({ agent: agent.name }, 'agent disconnected');
      void deps.agents.markDisconnected(agent.id).catch((err: Error) => log.error({ err }, 'failed recording agent status'));
      for (const listener of disconnectListeners) listener(agent.id);
    };
    call.on('error', onClosed);
    call.on('end', () => {
      onClosed();
      call.end();
    });
    call.on('cancelled', onClosed);
    call.on('data', (message: AgentControl) => {
      if (message.kind !== 'hello' || registered) return;
      registered = true;
      const hello = message.hello;
      const metadata = {
        version: hello.version ?? '',
        hostname: hello.hostname ?? '',
        platform: hello.platform ?? '',
        'kernel-version': hello.kernel_version ?? '',
        'runtime-version': hello.runtime_version ?? '',
      };
      void deps.agents
        .markConnected(agent.id, metadata)
        .then(() => {
          if (live.get(agent.id) !== entry) return;
          call.write({ welcome: { agent_id: agent.id, agent_name: agent.name } });
          log.info({ agent: agent.name, hostname: metadata.hostname }, 'agent connected');
          for (const wake of connectWaiters.get(agent.id) ?? []) wake();
          connectWaiters.delete(agent.id);
        })
        .catch((err: Error) => {
          log.error({ err }, 'failed registering agent');
          call.emit('error', grpcError(grpc.status.UNAVAILABLE, 'gateway store unavailable'));
        });
    });
  }

  /**
   * A Session stream is accepted only from a live agent, checked against the credential its
   * control stream authenticated with: either for a session offered to it (`session-id` set)
   * or, without a session id, as a warm stream kept for its next session.
   */
  function handleSession(call: GatewaySessionStream): void {
    let credential: { name: string; keyHash: string };
    try {
      credential = presentedCredential(call.metadata);
    } catch (error) {
      reject(call, error);
      return;
    }
    const owner = [...live.values()].find((agent) => agent.record.name === credential.name);
    if (!owner || !sameHash(owner.keyHash, credential.keyHash)) {
      reject(call, grpcError(grpc.status.UNAUTHENTICATED, 'invalid authentication'));
      return;
    }
    const sessionId = String(call.metadata.get(METADATA_SESSION_ID)[0] ?? '');
    if (!sessionId) {
      if (owner.warmStreams.length >= MAX_WARM_STREAMS) {
        reject(call, grpcError(grpc.status.RESOURCE_EXHAUSTED, 'enough warm session streams'));
        return;
      }
      owner.warmStreams.push(call);
      const dropWarm = () => {
        const index = owner.warmStreams.indexOf(call);
        if (index >= 0) owner.warmStreams.splice(index, 1);
      };
      call.on('close', dropWarm);
      call.on('error', dropWarm);
      call.on('cancelled', dropWarm);
      return;
    }
    const pending = pendingSessions.get(sessionId);
    if (!pending || pending.agentId !== owner.record.id) {
      reject(call, grpcError(grpc.status.NOT_FOUND, 'no such session offered to this agent'));
      return;
    }
    pendingSessions.delete(sessionId);
    adopt(owner, call);
    pending.resolve(call);
  }

  function adopt(owner: LiveAgent, call: GatewaySessionStream): void {
    owner.sessionStreams.add(call);
    const forget = () => owner.sessionStreams.delete(call);
    call.on('close', forget);
    call.on('error', forget);
  }

  const server = new grpc.Server({
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    'grpc.keepalive_time_ms': 20_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 5_000,
  });
  server.addService(agentTransportService, {
    Connect: (call: GatewayControlStream) => void handleControl(call),
    Session: (call: GatewaySessionStream) => handleSession(call),
  });

  return {
    listen(host: string, port: number): Promise<number> {
      const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
      return new Promise((resolve, reject) => {
        server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, boundPort) =>
          error ? reject(error) : resolve(boundPort),
        );
      });
    },

    isConnected(agentId: string): boolean {
      return live.has(agentId);
    },

    /** Resolves true once the agent is connected, or false after the timeout. */
    waitForAgent(agentId: string, timeoutMs: number): Promise<boolean> {
      if (live.has(agentId)) return Promise.resolve(true);
      return new Promise((resolve) => {
        const waiters = connectWaiters.get(agentId) ?? new Set();
        connectWaiters.set(agentId, waiters);
        const wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          waiters.delete(wake);
          resolve(false);
        }, timeoutMs);
        waiters.add(wake);
      });
    },

    /**
     * A Session stream of the agent for this session: a warm one when the agent has one ready,
     * otherwise the one it opens when offered the session.
     */
    openSession(agentId: string, sessionId: string, timeoutMs: number): Promise<GatewaySessionStream> {
      const agent = live.get(agentId);
      if (!agent) return Promise.reject(new AgentOfflineError('agent is offline'));
      for (let warm = agent.warmStreams.shift(); warm; warm = agent.warmStreams.shift()) {
        if (warm.destroyed || warm.cancelled) continue;
        adopt(agent, warm);
        return Promise.resolve(warm);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pendingSessions.delete(sessionId);
          reject(new AgentOfflineError('agent did not take the session'));
        }, timeoutMs);
        pendingSessions.set(sessionId, {
          agentId,
          resolve: (stream) => {
            clearTimeout(timer);
            resolve(stream);
          },
        });
        agent.control.write({ offer: { session_id: sessionId } });
      });
    },

    onAgentDisconnected(listener: (agentId: string) => void): void {
      disconnectListeners.push(listener);
    },

    /** Drops an agent's streams (its key was revoked). */
    disconnect(agentId: string, reason: string): void {
      const agent = live.get(agentId);
      if (!agent) return;
      agent.control.emit('error', grpcError(grpc.status.UNAUTHENTICATED, reason));
    },

    async close(): Promise<void> {
      for (const agent of live.values()) agent.control.end();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },

    forceClose(): void {
      server.forceShutdown();
    },
  };
}

export type AgentHub = ReturnType<typeof createAgentHub>;
