import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from '../../log.js';
import { BadRequestError, ConflictError, ForbiddenError, GoneError, NotFoundError, UnauthorizedError, UnprocessableError } from '../../errors.js';
import type { ExecSpec } from '../../wire/transport.js';
import { sha256Hex } from '../auth/auth-service.js';
import { isAdmin, isAuditor, type Identity } from '../auth/identity.js';
import type { ConnectionService } from '../connections/connection-service.js';
import { isDatabaseConnection, prepareDatabaseExec } from '../connections/database-exec.js';
import type { ConnectionRecord } from '../connections/connection-types.js';
import type { Notifier } from '../notifications/notification-types.js';
import type { ReviewView, TimeWindow } from '../reviews/review-types.js';
import { EventWriter, readEvents, type Segment, type SegmentStore, type SessionEvent } from '../events/event-log.js';
import type { AgentHub } from '../transport/agent-hub.js';
import type { DownloadTokenStore } from './download-token-store.js';
import { parseEventTypes, renderDownload, renderEventStreamField, renderRawQueriesField, type DownloadOptions, type EventStreamFormat } from './session-render.js';
import { SessionOutputFilter, type SessionPolicy } from './session-output.js';
import { AGENT_FAILURE_EXIT_CODE, SessionRun, type PreparedPolicy } from './session-run.js';
import type { NewSession, SessionEnd, SessionListFilter, SessionRecord, SessionStore } from './session-store.js';
import type { ExecRequest, ExecResult, SessionView } from './session-types.js';
import { UUID } from '../ids.js';

const METADATA_MAX_FIELDS = 20;
const METADATA_MAX_CHARS = 2500;
const DOWNLOAD_LINK_TTL_MS = 5 * 60 * 1000;
const ENV_KEY = /^(envvar|filesystem):([A-Za-z_][A-Za-z0-9_]*)$/;
const CONNECTION_TEST_MESSAGE_MAX_CHARS = 1000;

export interface SessionServiceDeps {
  sessions: Pick<SessionStore, 'insert' | 'find' | 'readInput' | 'finish' | 'listOwnOpenIds' | 'list' | 'reopenReady'>;
  downloadTokens: Pick<DownloadTokenStore, 'insert' | 'consume'>;
  connections: Pick<ConnectionService, 'find' | 'openSecrets'>;
  segments: SegmentStore;
  hub: Pick<AgentHub, 'waitForAgent' | 'openSession' | 'onAgentDisconnected'>;
  log: Logger;
  apiUrl: string;
  execWaitMs: number;
  agentConnectWaitMs: number;
  execOutputMaxBytes: number;
  sessionEventsMaxBytes: number;
  /** Told when a session ends (`session.finished`). */
  notifier: Notifier;
  reviews: SessionReviews;
  /** Masking and guard rails of a connection, read when each session starts (a rule change applies to the next session). */
  policies: { forConnection(connection: ConnectionRecord): Promise<SessionPolicy> };
}

/**
 * Reviews as the session service sees them (implemented in src/gateway/reviews): whether an
 * exec waits for approval, storing its review, and the review a session shows.
 */
export interface SessionReviews {
  needsReview(identity: Identity, connection: ConnectionRecord): Promise<boolean>;
  /** Checks the request (400 on a bad duration or time window); `store` runs once the session row exists. */
  prepareReview(identity: Identity, input: ExecInput, sessionId: string): { store(): Promise<void> };
  viewsOf(sessionIds: string[]): Promise<Map<string, ReviewView>>;
}

/** Metadata values become strings, as the reference stores them. */
export function coerceMetadata(metadata: Record<string, unknown> | undefined): Record<string, string> {
  const entries = Object.entries(metadata ?? {});
  if (entries.length > METADATA_MAX_FIELDS) {
    throw new UnprocessableError(`metadata field must have at most ${METADATA_MAX_FIELDS} fields`);
  }
  const coerced: Record<string, string> = {};
  for (const [key, value] of entries) {
    const text = value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
    if (key.length >= METADATA_MAX_CHARS || text.length >= METADATA_MAX_CHARS) {
      throw new UnprocessableError(`metadata key or value must not contain more than ${METADATA_MAX_CHARS} characters`);
    }
    coerced[key] = text;
  }
  return coerced;
}

export function validateCorrelationId(value: string | undefined): void {
  if (!value) return;
  if (value.length > 255) throw new UnprocessableError('correlation_id must not exceed 255 characters');
  if (!/^[\x20-\x7e]+$/.test(value)) throw new UnprocessableError('correlation_id must contain only printable ASCII characters');
}

/** What a session runs, once the request is checked and its connection found. */
export interface ExecInput {
  connection: ConnectionRecord;
  script: Buffer;
  clientArgs: string[];
  /** `envvar:NAME` / `filesystem:NAME` → base64; connection secrets override them. */
  envVars: Record<string, string>;
  labels: Record<string, string>;
  metadata: Record<string, string>;
  origin: string;
  sessionBatchId: string | null;
  correlationId: string | null;
  /** Asks for time-bound (jit) access when the connection needs a review. */
  accessDurationSec?: number;
  /** When the reviewed exec may run (UTC), for a connection that needs a review. */
  timeWindow?: TimeWindow;
}

/** What the agent runs: all a reviewed session keeps to run later. */
export type RunInput = Pick<ExecInput, 'connection' | 'script' | 'clientArgs' | 'envVars'>;

/** An exec's answer, and the end of its run (a run outlives a 202 answer). */
export interface Launched {
  status: 200 | 202;
  body: ExecResult;
  ended: Promise<void>;
}

export function originOf(userAgent: string | undefined): string {
  const client = (userAgent ?? '').split(' ')[0]?.split('/')[0];
  return client === 'webapp.core' ? 'webapp' : client === 'gatehouse-cli' || client === 'hoopcli' ? 'cli' : 'api';
}

/** Admins and auditors read every session; anyone else only their own. */
function readsAllSessions(identity: Identity): boolean {
  return isAdmin(identity) || isAuditor(identity);
}

function canAccess(identity: Identity, session: SessionRecord): boolean {
  return readsAllSessions(identity) || session.userId === identity.userId;
}

/** Reviewers read a session under review (its script, not its recording) to decide on it. */
function reviewsIt(identity: Identity, review: ReviewView | undefined): boolean {
  return review !== undefined && review.review_groups_data.some((group) => identity.groups.includes(group.group));
}

/** A session in progress that the gateway can end: an exec's run, or a native connection. */
export interface LiveSession {
  readonly sessionId: string;
  readonly agentId: string;
  readonly outcome: Promise<unknown>;
  kill(reason: string): void;
}

export function createSessionService(deps: SessionServiceDeps) {
  const running = new Map<string, LiveSession>();

  /** argv, environment and secret files for the agent: request vars < connection secrets < session vars. */
  function buildSpec(input: RunInput, identity: Identity, sessionId: string): ExecSpec {
    const { connection } = input;
    const secrets = deps.connections.openSecrets(connection);
    const env: Record<string, Buffer> = {};
    const files: Record<string, Buffer> = {};
    // A name is a variable or a file, never both: the agent lets files win, so a later
    // (stronger) source placing a name must also drop it from the other map.
    const place = (key: string, base64: string) => {
      const match = ENV_KEY.exec(key)!;
      const value = Buffer.from(base64, 'base64');
      if (match[1] === 'envvar') {
        env[match[2]!] = value;
        delete files[match[2]!];
      } else {
        files[match[2]!] = value;
        delete env[match[2]!];
      }
    };
    for (const [key, value] of Object.entries(input.envVars)) {
      if (!ENV_KEY.test(key)) throw new UnprocessableError(`env_vars: key "${key}" must be envvar:NAME or filesystem:NAME`);
      if (!(key in secrets)) place(key, value);
    }
    for (const [key, value] of Object.entries(secrets)) place(key, value);
    const sessionVars: Record<string, string> = {
      SESSION_ID: sessionId,
      CONNECTION_NAME: connection.name,
      CONNECTION_TYPE: connection.type,
      CLIENT_VERB: 'exec',
      USER_ID: identity.userId,
      USER_EMAIL: identity.email,
    };
    // The HOOP_ names too, so scripts written for the reference keep working.
    for (const prefix of ['GATEHOUSE_', 'HOOP_']) {
      for (const [name, value] of Object.entries(sessionVars)) {
        env[prefix + name] = Buffer.from(value);
        delete files[prefix + name];
      }
    }
    // Only the connection's own command is filled from its secrets: a client argument naming
    // `$PASS` would otherwise print the password back to the user.
    const database = prepareDatabaseExec(connection, connection.command, env);
    return {
      command: [...(database?.command ?? connection.command), ...input.clientArgs],
      env,
      files,
      ...(database ? { reachability_check: database.reachabilityCheck } : {}),
    };
  }

  /** Closes the session, storing its recording's last segment, in one statement when they share the database. */
  async function finishSession(sessionId: string, end: SessionEnd, lastSegment?: Segment): Promise<void> {
    let closed: boolean;
    if (!lastSegment) {
      closed = await deps.sessions.finish(sessionId, end);
    } else if (deps.segments.location === 'database') {
      closed = await deps.sessions.finish(sessionId, end, lastSegment);
    } else {
      [, closed] = await Promise.all([deps.segments.appendSegment(sessionId, lastSegment.seq, lastSegment.data), deps.sessions.finish(sessionId, end)]);
    }
    // Only the call that closed the row tells, so a session is announced once.
    if (closed) await publishFinished(sessionId);
  }

  /** A summary only (no script, output or secrets); failing to queue it never undoes the close. */
  async function publishFinished(sessionId: string): Promise<void> {
    try {
      const session = await deps.sessions.find(sessionId);
      if (!session) return;
      await deps.notifier.publish({
        type: 'session.finished',
        data: {
          id: session.id,
          connection: session.connection,
          user: session.userEmail,
          status: session.status,
          exit_code: session.exitCode,
          end_reason: session.endReason,
          start_date: session.createdAt.toISOString(),
          end_date: session.endedAt?.toISOString() ?? null,
        },
      });
    } catch (error) {
      deps.log.error({ err: error, sessionId }, 'could not queue the session.finished notification');
    }
  }

  /** The session, its review, and whether the caller may read its recording (reviewers may not). */
  async function findVisible(identity: Identity, sessionId: string) {
    const session = UUID.test(sessionId) ? await deps.sessions.find(sessionId) : undefined;
    if (!session) throw new NotFoundError('not found');
    const review = (await deps.reviews.viewsOf([session.id])).get(session.id);
    const fullAccess = canAccess(identity, session);
    if (!fullAccess && !reviewsIt(identity, review)) throw new ForbiddenError('user is not allowed to access this session');
    return { session, review: review ?? null, fullAccess };
  }

  function sessionView(session: SessionRecord, script: string | null, review: ReviewView | null): SessionView {
    return {
      id: session.id,
      org_id: '',
      connection: session.connection,
      connection_subtype: session.connectionSubtype,
      connection_tags: session.connectionTags,
      resource_name: session.connection,
      role_name: session.connection,
      type: session.connectionType,
      verb: session.verb,
      status: session.status,
      user: session.userEmail,
      user_id: session.userId,
      user_name: session.userName,
      labels: session.labels,
      metadata: session.metadata,
      integrations_metadata: session.integrationsMetadata,
      metrics: session.metrics,
      script: script === null ? null : { data: script },
      script_size: session.scriptSize,
      exit_code: session.exitCode,
      end_reason: session.endReason,
      review,
      event_size: Number(session.metrics?.event_size ?? 0),
      ...(session.sessionBatchId !== null ? { session_batch_id: session.sessionBatchId } : {}),
      ...(session.correlationId !== null ? { correlation_id: session.correlationId } : {}),
      start_date: session.createdAt.toISOString(),
      end_date: session.endedAt ? session.endedAt.toISOString() : null,
      guardrails_info: session.guardrailsInfo,
      identity_type: 'user',
    };
  }

  const events = (sessionId: string): AsyncIterable<SessionEvent> => readEvents(deps.segments, sessionId);

  deps.hub.onAgentDisconnected((agentId) => {
    for (const run of running.values()) {
      if (run.agentId === agentId) run.kill('agent disconnected during the session');
    }
  });

  function newSessionRow(identity: Identity, input: Omit<ExecInput, 'clientArgs' | 'envVars'>, sessionId: string, verb: string): NewSession {
    const { connection } = input;
    return {
      id: sessionId,
      connection: connection.name,
      connectionType: connection.type,
      connectionSubtype: connection.subtype,
      connectionTags: connection.connectionTags,
      agentId: connection.agentId,
      verb,
      origin: input.origin,
      labels: input.labels,
      metadata: input.metadata,
      integrationsMetadata: null,
      userId: identity.userId,
      userName: identity.name,
      userEmail: identity.email,
      input: input.script,
      sessionBatchId: input.sessionBatchId,
      correlationId: input.correlationId,
      createdAt: new Date(),
    };
  }

  /** The connection's masking and guard rails, and whether its input guard rails let the script run. */
  async function preparePolicy(input: RunInput): Promise<PreparedPolicy> {
    const policy = await deps.policies.forConnection(input.connection);
    const inputViolations = policy.guardrails?.hasInputRules ? await policy.guardrails.checkInput(input.script) : [];
    return { filter: new SessionOutputFilter(policy), inputViolations };
  }

  /**
   * Runs a session once `storeRow` has stored its row (called only once the spec is built, so a
   * refused request leaves no row behind); answers when it ends or after the exec wait (202).
   */
  async function launch(identity: Identity, input: RunInput, sessionId: string, storeRow: () => Promise<unknown>): Promise<Launched> {
    const spec = buildSpec(input, identity, sessionId);
    const rowStored = storeRow();
    const policyReady = preparePolicy(input);
    policyReady.catch(() => {}); // the run reports it
    const recorder = new EventWriter(deps.segments, sessionId, { maxBytes: deps.sessionEventsMaxBytes });
    const run = new SessionRun(
      { hub: deps.hub, log: deps.log, agentConnectWaitMs: deps.agentConnectWaitMs, finishSession },
      sessionId,
      input.connection.agentId,
      recorder,
      deps.execOutputMaxBytes,
    );
    running.set(sessionId, run);
    void run.run(spec, input.script, rowStored, policyReady).finally(() => running.delete(sessionId));
    await rowStored;
    const ended = run.outcome.then(() => undefined);

    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      run.outcome,
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), deps.execWaitMs))),
    ]);
    clearTimeout(timer);
    if (!outcome) {
      run.output.abandon();
      return {
        status: 202,
        body: { session_id: sessionId, output: [], output_status: 'running', exit_code: -2, execution_time: 0, has_review: false, truncated: false },
        ended,
      };
    }
    return {
      status: 200,
      body: {
        session_id: sessionId,
        output: run.output.text(),
        output_status: outcome.exitCode === 0 && !outcome.error ? 'success' : 'failed',
        exit_code: outcome.exitCode,
        execution_time: outcome.executionTimeMs,
        has_review: false,
        truncated: run.output.truncated,
      },
      ended,
    };
  }

  /**
   * Every exec (API and runbooks) comes here: on a connection with reviewers it is stored with a
   * pending review and nothing runs (200, `has_review`, the session URL as output); otherwise
   * it is recorded and run.
   */
  async function start(identity: Identity, input: ExecInput): Promise<{ status: 200 | 202; body: ExecResult }> {
    const sessionId = randomUUID();
    if (await deps.reviews.needsReview(identity, input.connection)) {
      // Checked now, so that a bad request is refused before anything is stored.
      buildSpec(input, identity, sessionId);
      const review = deps.reviews.prepareReview(identity, input, sessionId);
      await deps.sessions.insert(newSessionRow(identity, input, sessionId, input.accessDurationSec ? 'connect' : 'exec'));
      await review.store();
      return {
        status: 200,
        body: {
          session_id: sessionId,
          output: [`${deps.apiUrl}/sessions/${sessionId}`],
          output_status: 'success',
          exit_code: 0,
          execution_time: 0,
          has_review: true,
          truncated: false,
        },
      };
    }
    const { status, body } = await launch(identity, input, sessionId, () => deps.sessions.insert(newSessionRow(identity, input, sessionId, 'exec')));
    return { status, body };
  }

  return {
    async exec(identity: Identity, request: ExecRequest, userAgent: string | undefined): Promise<{ status: 200 | 202; body: ExecResult }> {
      const metadata = coerceMetadata(request.metadata);
      validateCorrelationId(request.correlation_id);
      const connectionName = request.connection ?? '';
      const connection = connectionName ? await deps.connections.find(connectionName, identity) : undefined;
      if (!connection) throw new BadRequestError(`connection ${connectionName} not found`);
      return start(identity, {
        connection,
        script: Buffer.from(request.script ?? '', 'utf8'),
        clientArgs: request.client_args ?? [],
        envVars: request.env_vars ?? {},
        labels: request.labels ?? {},
        metadata,
        origin: originOf(userAgent),
        sessionBatchId: request.session_batch_id ?? null,
        correlationId: request.correlation_id || null,
        accessDurationSec: request.access_duration_sec,
        timeWindow: request.time_window,
      });
    },

    start,

    /** Native access: stores the `connect` session of one client connection (no script: its queries are its input events). */
    async recordConnect(identity: Identity, connection: ConnectionRecord, sessionId: string, origin: string): Promise<void> {
      const input = { connection, script: Buffer.alloc(0), labels: {}, metadata: {}, origin, sessionBatchId: null, correlationId: null };
      await deps.sessions.insert(newSessionRow(identity, input, sessionId, 'connect'));
    },

    /** Tracks a live session until it ends, so kill, shutdown and the loss of its agent reach it. */
    track(session: LiveSession): void {
      running.set(session.sessionId, session);
      void session.outcome.finally(() => running.delete(session.sessionId));
    },

    finish: finishSession,

    /**
     * Whether the agent reaches the database and logs in: `SELECT 1` through the connection's own
     * client, recorded as a session like any run (labelled `gatehouse.connection_test`). Never
     * held for review: nothing but the login is exercised.
     */
    async testConnection(identity: Identity, nameOrId: string): Promise<{ success: true }> {
      const connection = await deps.connections.find(nameOrId, identity);
      if (!connection) throw new NotFoundError('connection not found');
      if (!isDatabaseConnection(connection)) {
        throw new BadRequestError('connection test failed: only database connections (postgres, mysql) can be tested');
      }
      const sessionId = randomUUID();
      const input: ExecInput = {
        connection,
        script: Buffer.from('SELECT 1;\n'),
        clientArgs: [],
        envVars: {},
        labels: { 'gatehouse.connection_test': 'true' },
        metadata: {},
        origin: 'api',
        sessionBatchId: null,
        correlationId: null,
      };
      const { status, body } = await launch(identity, input, sessionId, () => deps.sessions.insert(newSessionRow(identity, input, sessionId, 'exec')));
      if (status === 200 && body.exit_code === 0) return { success: true };
      const output = status === 200 ? [...(body.output as Iterable<string>)].join('').trim() : 'no answer within the exec wait';
      throw new BadRequestError(`connection test failed: ${output.slice(0, CONNECTION_TEST_MESSAGE_MAX_CHARS)}`);
    },

    /**
     * Runs a session stored earlier and approved since (`ready`), with what was stored for it,
     * as its owner. Answers 409 if it is not ready (already run, or ended).
     */
    async runApproved(owner: Identity, sessionId: string, input: RunInput): Promise<Launched> {
      if (!(await deps.sessions.reopenReady(sessionId))) throw new ConflictError(`the session ${sessionId} is not ready to run`);
      return launch(owner, input, sessionId, () => Promise.resolve());
    },

    /** The stored script of a session, byte for byte. */
    async input(sessionId: string): Promise<Buffer> {
      return (await deps.sessions.readInput(sessionId)) ?? Buffer.alloc(0);
    },

    /**
     * The session as JSON text chunks. The head is built in memory; the event stream, when
     * asked for, is rendered while it is read.
     */
    async get(
      identity: Identity,
      sessionId: string,
      options: { expand: string[]; eventStream?: string },
    ): Promise<Iterable<string> | AsyncIterable<string>> {
      const { session, review, fullAccess } = await findVisible(identity, sessionId);
      const withInput = options.expand.length === 0 || options.expand.includes('session_input');
      const script = withInput ? ((await deps.sessions.readInput(session.id)) ?? Buffer.alloc(0)).toString('utf8') : '';
      const view = sessionView(session, script, review);
      if (!options.expand.includes('event_stream') || !fullAccess) {
        return [JSON.stringify(view)];
      }
      // raw-queries rewrites only postgres wire-protocol recordings (native access sessions):
      // every other recording is returned as stored.
      const wireProtocol = session.verb === 'connect' && session.connectionSubtype === 'postgres';
      const rawQueries = options.eventStream === 'raw-queries' && wireProtocol;
      const requested = options.eventStream === 'raw-queries' ? 'raw' : options.eventStream;
      const format = (requested ?? 'raw') as EventStreamFormat;
      if (!['raw', 'utf8', 'base64'].includes(format)) {
        throw new UnprocessableError('event_stream attribute has an unknown type format');
      }
      const { event_size: _storedSize, ...head } = view;
      const headText = JSON.stringify(head);
      return (async function* () {
        yield headText.slice(0, -1) + ',';
        yield* rawQueries ? renderRawQueriesField(events(session.id)) : renderEventStreamField(events(session.id), format, view.event_size);
        yield '}';
      })();
    },

    async list(identity: Identity, filter: Omit<SessionListFilter, 'visibleTo'>) {
      const result = await deps.sessions.list({ ...filter, visibleTo: readsAllSessions(identity) ? undefined : identity.userId });
      const reviews = await deps.reviews.viewsOf(result.sessions.map((s) => s.id));
      return {
        data: result.sessions.map((s) => sessionView(s, null, reviews.get(s.id) ?? null)),
        total: result.total,
        has_next_page: result.hasNextPage,
      };
    },

    async kill(identity: Identity, sessionId: string): Promise<void> {
      const session = UUID.test(sessionId) ? await deps.sessions.find(sessionId) : undefined;
      if (!session || !canAccess(identity, session)) throw new NotFoundError('session not found');
      const run = running.get(session.id);
      if (run) {
        run.kill('session killed by the user');
        await run.outcome;
      } else if (session.status !== 'done') {
        await finishSession(session.id, { exitCode: AGENT_FAILURE_EXIT_CODE, endReason: 'session killed by the user', metrics: {} });
      }
    },

    async createDownloadLink(
      identity: Identity,
      sessionId: string,
      query: { extension: string; newline?: string; 'event-time'?: string; events?: string },
    ): Promise<{ download_url: string; expire_at: string }> {
      const { session, fullAccess } = await findVisible(identity, sessionId);
      if (!fullAccess) throw new ForbiddenError('user is not allowed to access this session');
      const options: DownloadOptions = {
        extension: query.extension,
        newline: query.newline === '1',
        eventTime: query['event-time'] === '1',
        events: parseEventTypes(query.events),
      };
      const token = randomBytes(32).toString('hex');
      const expiresAt = new Date(Date.now() + DOWNLOAD_LINK_TTL_MS);
      await deps.downloadTokens.insert({ tokenHash: sha256Hex(token), sessionId: session.id, userId: identity.userId, options, expiresAt });
      const params = new URLSearchParams({
        token,
        extension: options.extension,
        newline: options.newline ? '1' : '0',
        'event-time': options.eventTime ? '1' : '0',
        events: options.events.join(','),
      });
      return { download_url: `${deps.apiUrl}/api/sessions/${session.id}/download?${params}`, expire_at: expiresAt.toISOString() };
    },

    /** Redeems a one-time download token. */
    async download(sessionId: string, token: string | undefined): Promise<{ filename: string; body: AsyncIterable<Buffer> }> {
      if (!token || !UUID.test(sessionId)) throw new UnauthorizedError('unauthorized');
      const redeemed = await deps.downloadTokens.consume(sha256Hex(token), sessionId);
      if (redeemed === 'unknown') throw new UnauthorizedError('unauthorized');
      if (redeemed === 'used') throw new NotFoundError('not found');
      if (redeemed === 'expired') throw new GoneError('session download link expired');
      const session = await deps.sessions.find(sessionId);
      if (!session) throw new NotFoundError('not found');
      const options = redeemed.options;
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
      const extension = options.extension.replace(/[^A-Za-z0-9.]/g, '') || 'txt';
      return {
        filename: `${session.connection}-${session.id}-${stamp}.${extension}`,
        body: renderDownload(events(session.id), session.createdAt, options),
      };
    },

    /** At start-up: sessions another run of this gateway left open can no longer finish. */
    async closeOrphans(): Promise<number> {
      const ids = (await deps.sessions.listOwnOpenIds()).filter((id) => !running.has(id));
      for (const id of ids) {
        await finishSession(id, { exitCode: AGENT_FAILURE_EXIT_CODE, endReason: 'the gateway stopped while the session was running', metrics: {} });
      }
      return ids.length;
    },

    /** On shutdown: ends every running session with a recorded reason. */
    async stopAll(reason: string): Promise<void> {
      const runs = [...running.values()];
      for (const run of runs) run.kill(reason);
      await Promise.all(runs.map((run) => run.outcome));
    },
  };
}

export type SessionService = ReturnType<typeof createSessionService>;
