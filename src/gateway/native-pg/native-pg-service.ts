import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import { UnauthorizedError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { PgProtocolError, encodeNegotiateProtocolVersion, encodeStartupMessage } from '../../wire/pg/index.js';
import type { AuthService } from '../auth/auth-service.js';
import type { Identity } from '../auth/identity.js';
import type { ConnectionService } from '../connections/connection-service.js';
import type { ConnectionRecord } from '../connections/connection-types.js';
import { postgresTarget } from '../connections/database-exec.js';
import { EventWriter, type SegmentStore } from '../events/event-log.js';
import type { AgentHub } from '../transport/agent-hub.js';
import type { SessionPolicy } from '../sessions/session-output.js';
import type { SessionReviews, SessionService } from '../sessions/session-service.js';
import { NO_EXIT_CODE } from '../sessions/session-run.js';
import { HandshakeError, readClientHello, readPassword, refuse, type ClientHello } from './pg-handshake.js';
import { NativePgSession } from './pg-session.js';

const SESSION_OPEN_TIMEOUT_MS = 10_000;
/** Startup parameters that name who and where: the gateway decides those, never the client. */
const LOGIN_PARAMETERS = new Set(['user', 'database', 'replication']);

/** Why a client is refused, as a PostgreSQL server would say it. */
class RefusedError extends Error {
  constructor(
    readonly sqlState: string,
    message: string,
  ) {
    super(message);
  }
}

/** A tunnel from `gatehouse connect`: its caller already authenticated, for this connection. */
export interface TunnelGrant {
  identity: Identity;
  connectionName: string;
}

export interface NativePgServiceDeps {
  auth: Pick<AuthService, 'authenticate'>;
  connections: Pick<ConnectionService, 'find' | 'openSecrets'>;
  reviews: Pick<SessionReviews, 'needsReview'>;
  sessions: Pick<SessionService, 'recordConnect' | 'track' | 'finish'>;
  policies: { forConnection(connection: ConnectionRecord): Promise<SessionPolicy> };
  hub: Pick<AgentHub, 'waitForAgent' | 'openSession'>;
  segments: SegmentStore;
  sessionEventsMaxBytes: number;
  agentConnectWaitMs: number;
  /** Set when the PostgreSQL port serves TLS (and then requires it). */
  secureContext: tls.SecureContext | undefined;
  log: Logger;
}

/**
 * Native PostgreSQL access: a client connects to the gateway with a connection's name as its
 * database (or user) and its own Gatehouse credential as password. The gateway checks who it
 * is and whether it may use that connection, then relays the connection to the agent, which
 * logs in to the real server. One TCP connection is one session.
 */
export function createNativePgService(deps: NativePgServiceDeps) {
  const { log } = deps;
  /** Live sessions by their server's cancel key (process id and secret: two servers may share a pid). */
  const byBackendKey = new Map<string, NativePgSession>();
  const keyOf = (processId: number, secretKey: Buffer) => `${processId}:${secretKey.toString('hex')}`;

  function onBackendKey(session: NativePgSession, key: { processId: number; secretKey: Buffer } | null): void {
    for (const [known, entry] of byBackendKey) if (entry === session) byBackendKey.delete(known);
    if (key) byBackendKey.set(keyOf(key.processId, key.secretKey), session);
  }

  /** A cancel naming a live session's server key is passed to its agent; any other is ignored, as PostgreSQL does. */
  function cancel(processId: number, secretKey: Buffer): void {
    byBackendKey.get(keyOf(processId, secretKey))?.cancel();
  }

  async function identify(password: string): Promise<Identity> {
    try {
      return await deps.auth.authenticate({ authorization: `Bearer ${password}` });
    } catch (error) {
      if (error instanceof UnauthorizedError) throw new RefusedError('28P01', 'password authentication failed: use a Gatehouse API key or login token as the password');
      throw error;
    }
  }

  /** The first of the names (database, then user) that is a connection this user may use. */
  async function resolveConnection(identity: Identity, names: string[]): Promise<ConnectionRecord> {
    for (const name of names) {
      const connection = await deps.connections.find(name, identity);
      if (connection) return connection;
    }
    throw new RefusedError('3D000', `connection "${names[0] ?? ''}" not found: name a postgres connection you have access to as the database`);
  }

  async function authorise(identity: Identity, connection: ConnectionRecord): Promise<void> {
    if (connection.type !== 'database' || connection.subtype !== 'postgres') {
      throw new RefusedError('0A000', `connection "${connection.name}" is not a postgres database connection`);
    }
    if (connection.accessModeConnect === 'disabled') {
      throw new RefusedError('42501', `native access is disabled on connection "${connection.name}" (access_mode_connect)`);
    }
    if (await deps.reviews.needsReview(identity, connection)) {
      throw new RefusedError(
        '42501',
        `connection "${connection.name}" requires a review: request time-bound access (POST /api/sessions with access_duration_sec) and connect once it is approved`,
      );
    }
  }

  async function open(hello: Extract<ClientHello, { kind: 'startup' }>, grant?: TunnelGrant): Promise<void> {
    const { socket, reader, parameters } = hello;
    if ((hello.protocolVersion & 0xffff) !== 0 || [...parameters.keys()].some((key) => key.startsWith('_pq_.'))) {
      // The gateway and the agent speak 3.0 and support no protocol options.
      socket.write(encodeNegotiateProtocolVersion(0, [...parameters.keys()].filter((key) => key.startsWith('_pq_.'))));
    }
    const names = [...new Set([parameters.get('database'), parameters.get('user')].filter((name): name is string => !!name))];
    const identity = grant ? grant.identity : await identify(await readPassword(socket, reader));
    const connection = await resolveConnection(identity, grant ? [grant.connectionName] : names);
    await authorise(identity, connection);
    let target;
    try {
      target = postgresTarget(deps.connections.openSecrets(connection));
    } catch (error) {
      throw new RefusedError('08001', (error as Error).message);
    }
    const policy = await deps.policies.forConnection(connection);

    const sessionId = randomUUID();
    await deps.sessions.recordConnect(identity, connection, sessionId, grant ? 'cli' : 'client');
    let stream;
    try {
      if (!(await deps.hub.waitForAgent(connection.agentId, deps.agentConnectWaitMs))) throw new Error('agent is offline');
      stream = await deps.hub.openSession(connection.agentId, sessionId, SESSION_OPEN_TIMEOUT_MS);
    } catch (error) {
      const reason = (error as Error).message;
      await deps.sessions.finish(sessionId, { exitCode: NO_EXIT_CODE, endReason: reason, metrics: {} });
      throw new RefusedError('08001', reason);
    }
    const clientParameters: Record<string, string> = {};
    for (const [key, value] of parameters) if (!LOGIN_PARAMETERS.has(key) && !key.startsWith('_pq_.')) clientParameters[key] = value;
    const session = new NativePgSession(
      { log, finishSession: deps.sessions.finish, onBackendKey },
      {
        sessionId,
        agentId: connection.agentId,
        client: socket,
        reader,
        stream,
        recorder: new EventWriter(deps.segments, sessionId, { maxBytes: deps.sessionEventsMaxBytes }),
        policy,
        login: {
          session_id: sessionId,
          host: target.host,
          port: target.port,
          user: target.user,
          password: target.password,
          database: target.database ?? '',
          sslmode: target.sslmode ?? '',
          parameters: clientParameters,
        },
        recordedStartup: encodeStartupMessage({ ...clientParameters, user: identity.email, database: connection.name }),
      },
    );
    deps.sessions.track(session);
    log.info({ sessionId, connection: connection.name, user: identity.email }, 'native postgres session started');
    await session.run();
  }

  return {
    /** Serves one client connection from its first byte to its end; never throws. */
    async serve(client: Duplex, grant?: TunnelGrant): Promise<void> {
      client.on('error', () => {});
      let socket: Duplex = client;
      try {
        const hello = await readClientHello(client, grant ? undefined : deps.secureContext);
        if (hello.kind === 'cancel') {
          cancel(hello.processId, hello.secretKey);
          client.end();
          return;
        }
        socket = hello.socket;
        socket.on('error', () => {});
        await open(hello, grant);
      } catch (error) {
        if (error instanceof RefusedError) {
          log.info({ code: error.sqlState, reason: error.message }, 'native postgres connection refused');
          refuse(socket, error.sqlState, error.message);
        } else if (error instanceof HandshakeError || error instanceof PgProtocolError) {
          log.debug({ err: error.message }, 'native postgres handshake failed');
          refuse(socket, '08P01', `protocol error: ${error.message}`);
        } else {
          log.error({ err: error }, 'native postgres connection failed');
          refuse(socket, 'XX000', 'internal gateway error');
        }
      } finally {
        setTimeout(() => socket.destroy(), 1000).unref();
      }
    },
  };
}

export type NativePgService = ReturnType<typeof createNativePgService>;
