import type { Duplex } from 'node:stream';
import { describeViolations, type GuardrailViolation } from '../../guardrails/index.js';
import type { Logger } from '../../log.js';
import { createMaskingStream, type MaskingStream } from '../../masking/index.js';
import {
  PgMessageReader,
  decodeFrontendMessage,
  encodeParse,
  encodeQuery,
  type PgNoticeInput,
} from '../../wire/pg/index.js';
import type { AgentSessionMessage, GatewaySessionStream, PgConnect } from '../../wire/transport.js';
import type { EventWriter, Segment } from '../events/event-log.js';
import { countFindingsInto, type MaskingTotals, type SessionPolicy } from '../sessions/session-output.js';
import { AGENT_FAILURE_EXIT_CODE, closeSession, secondsSince } from '../sessions/session-run.js';
import type { SessionEnd } from '../sessions/session-store.js';
import { BackendFilter } from './backend-filter.js';
import { refuse } from './pg-handshake.js';

/** Largest piece of client bytes in one gRPC message (well under the transport's message cap). */
const AGENT_CHUNK_BYTES = 1024 * 1024;
const FLUSH_INTERVAL_MS = 1_000;
/** How long the agent has to confirm the end after the client left. */
const CLOSE_GRACE_MS = 5_000;
/** SQLSTATE of a query a guard rail refused: insufficient_privilege, an ordinary (non-fatal) error. */
const GUARDRAIL_SQLSTATE = '42501';

interface AgentExit {
  exitCode: number;
  error: string | undefined;
}

export interface NativePgSessionDeps {
  log: Logger;
  finishSession(sessionId: string, end: SessionEnd, lastSegment?: Segment): Promise<void>;
  /** The server's cancel key is known (cancel requests name it), or forgotten at the end (null). */
  onBackendKey(session: NativePgSession, key: { processId: number; secretKey: Buffer } | null): void;
}

export interface NativePgSessionOptions {
  sessionId: string;
  agentId: string;
  client: Duplex;
  /** The client's message reader, holding whatever arrived behind the handshake. */
  reader: PgMessageReader;
  stream: GatewaySessionStream;
  recorder: EventWriter;
  policy: SessionPolicy;
  login: PgConnect;
  /** The client's StartupMessage as recorded: scrubbed of the credential, naming the Gatehouse user. */
  recordedStartup: Buffer;
}

/**
 * One native PostgreSQL connection through the gateway, a session of verb `connect`: relays the
 * client's messages to the agent (which holds the real login) and the server's bytes back.
 * Every client message is recorded as an `i` event (wire format, bound parameters included;
 * passwords never); input guard rails answer a blocked query with an ErrorResponse and the
 * connection goes on; masking applies to each field of the rows on their way back.
 */
export class NativePgSession {
  readonly outcome: Promise<void>;
  readonly sessionId: string;
  readonly agentId: string;
  private resolveOutcome!: () => void;
  private readonly startedAt = process.hrtime.bigint();
  private readonly backend: BackendFilter;
  private readonly masker: MaskingStream | undefined;
  private readonly maskingTotals = new Map<string, MaskingTotals>();
  private readonly violations: GuardrailViolation[] = [];
  private finished = false;
  private agentExited = false;
  private killReason: string | undefined;
  private settleAgent: ((exit: AgentExit) => void) | undefined;

  constructor(
    private readonly deps: NativePgSessionDeps,
    private readonly options: NativePgSessionOptions,
  ) {
    this.sessionId = options.sessionId;
    this.agentId = options.agentId;
    this.outcome = new Promise((resolve) => (this.resolveOutcome = resolve));
    const masking = options.policy.masking;
    this.masker = masking ? createMaskingStream({ ...masking, onFinding: countFindingsInto(this.maskingTotals) }) : undefined;
    this.backend = new BackendFilter({
      masker: this.masker,
      onBackendKey: (processId, secretKey) => deps.onBackendKey(this, { processId, secretKey }),
    });
  }

  private elapsedSeconds(): number {
    return secondsSince(this.startedAt);
  }

  /** Runs until the client, the agent or a kill ends the connection; the session is closed then. */
  async run(): Promise<void> {
    const { stream, client, recorder } = this.options;
    const flushTimer = setInterval(() => void recorder.flush().catch(() => {}), FLUSH_INTERVAL_MS);
    try {
      stream.write({ pg_connect: { ...this.options.login, session_id: this.sessionId } });
      await recorder.append('i', 0, this.options.recordedStartup);
      const agentDone = this.pumpAgent();
      await this.pumpClient();
      if (!this.agentExited) this.endAgent('the agent did not confirm the end of the connection');
      await this.finish(await agentDone);
    } catch (error) {
      this.deps.log.error({ err: error, sessionId: this.sessionId }, 'native postgres session failed');
      this.failClient('internal gateway error');
      await this.finish({ exitCode: AGENT_FAILURE_EXIT_CODE, error: 'internal gateway error during the session' });
    } finally {
      clearInterval(flushTimer);
      client.destroy();
    }
  }

  /** Ends the connection from the gateway's side (a user's kill, shutdown, the agent lost). */
  kill(reason: string): void {
    if (this.finished || this.killReason) return;
    this.killReason = reason;
    this.failClient(reason, '57P01');
    this.endAgent(reason);
  }

  /** Asks the agent to cancel the query running on the server (a client's CancelRequest). */
  cancel(): void {
    if (!this.agentExited && !this.options.stream.writableEnded) this.options.stream.write({ pg_cancel: {} });
  }

  /**
   * Tells the agent the client is gone (stdin_end; ending a gRPC call from the server's side
   * would end it both ways at once); an agent that does not confirm in time is given up on.
   */
  private endAgent(reason: string): void {
    const { stream } = this.options;
    if (!stream.writableEnded) stream.write({ stdin_end: {} });
    setTimeout(() => this.settleAgent?.({ exitCode: AGENT_FAILURE_EXIT_CODE, error: reason }), CLOSE_GRACE_MS).unref();
  }

  /**
   * Client → agent, one socket read at a time: each message is recorded, checked, and sent on in
   * one gRPC message per read; reading waits while the agent's stream or the recorder is full.
   */
  private async pumpClient(): Promise<void> {
    const { client, reader } = this.options;
    try {
      await this.forwardBuffered(reader);
      for await (const chunk of client as AsyncIterable<Buffer>) {
        if (this.finished || this.agentExited || this.killReason) return;
        reader.push(chunk);
        await this.forwardBuffered(reader);
      }
    } catch (error) {
      // A client that breaks the protocol or resets the socket ends its own session.
      this.deps.log.debug({ sessionId: this.sessionId, err: (error as Error).message }, 'native postgres client ended abruptly');
      if (!(error as NodeJS.ErrnoException).code) this.failClient(`protocol error: ${(error as Error).message}`, '08P01');
    }
  }

  private async forwardBuffered(reader: PgMessageReader): Promise<void> {
    const guardrails = this.options.policy.guardrails?.hasInputRules ? this.options.policy.guardrails : undefined;
    const forward: Buffer[] = [];
    for (let frame = reader.next(); frame; frame = reader.next()) {
      if (frame.kind !== 'typed') continue;
      // Password and SASL messages: the server never asked (the agent logged in), and a
      // credential is never recorded or passed on.
      if (frame.type === 'p') continue;
      await this.options.recorder.append('i', this.elapsedSeconds(), frame.raw);
      forward.push(guardrails && 'QP'.includes(frame.type) ? await this.checked(frame.type, frame.body, frame.raw, guardrails) : frame.raw);
    }
    await this.sendToAgent(this.options.stream, forward);
  }

  /** The message to send for a Query or Parse: itself, or when a guard rail blocks it, a stand-in. */
  private async checked(
    type: string,
    body: Buffer,
    raw: Buffer,
    guardrails: NonNullable<SessionPolicy['guardrails']>,
  ): Promise<Buffer> {
    const message = decodeFrontendMessage({ type, body });
    const sql = message.name === 'Query' ? message.sql : message.name === 'Parse' ? message.query : undefined;
    if (sql === undefined) return raw;
    const violations = await guardrails.checkInput(sql);
    if (violations.length === 0) return raw;
    this.violations.push(...violations);
    const error: PgNoticeInput = { severity: 'ERROR', code: GUARDRAIL_SQLSTATE, message: describeViolations(violations) };
    const standIn = this.backend.blockQuery(error);
    return message.name === 'Parse' ? encodeParse(message.statementName, standIn, message.parameterTypes) : encodeQuery(standIn);
  }

  private async sendToAgent(stream: GatewaySessionStream, pieces: Buffer[]): Promise<void> {
    if (pieces.length === 0 || stream.writableEnded) return;
    const data = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
    for (let offset = 0; offset < data.length; offset += AGENT_CHUNK_BYTES) {
      if (!stream.write({ pg_data: { data: data.subarray(offset, offset + AGENT_CHUNK_BYTES) } })) {
        await new Promise<void>((resolve) => {
          const done = () => {
            stream.off('drain', done);
            stream.off('close', done);
            resolve();
          };
          stream.on('drain', done);
          stream.on('close', done);
        });
      }
    }
  }

  /** Agent → client, until the agent reports the end or the stream breaks. */
  private pumpAgent(): Promise<AgentExit> {
    const { stream, client } = this.options;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (exit: AgentExit) => {
        if (settled) return;
        settled = true;
        this.agentExited = true;
        // The client learns why, unless the server already told it (a FATAL error of its own).
        if (exit.error && !this.backend.endedWithFatal) this.failClient(exit.error);
        client.end();
        // A client that keeps its socket open after the end is cut off.
        setTimeout(() => client.destroy(), CLOSE_GRACE_MS).unref();
        resolve(exit);
      };
      this.settleAgent = settle;
      stream.on('data', (message: AgentSessionMessage) => {
        if (message.kind === 'pg_data') {
          if (client.destroyed) return;
          let data: Buffer;
          try {
            data = this.backend.filter(message.pg_data.data);
          } catch (error) {
            // Bytes that are not the PostgreSQL protocol cannot be masked or checked: none pass.
            this.kill(`protocol error from the database: ${(error as Error).message}`);
            return;
          }
          if (!client.write(data)) {
            stream.pause();
            client.once('drain', () => stream.resume());
          }
        } else if (message.kind === 'exit') {
          stream.end();
          settle({ exitCode: message.exit.error ? AGENT_FAILURE_EXIT_CODE : (message.exit.exit_code ?? 0), error: message.exit.error || undefined });
        }
      });
      const lost = () => settle({ exitCode: AGENT_FAILURE_EXIT_CODE, error: this.killReason ?? 'agent disconnected during the session' });
      stream.on('error', lost);
      stream.on('close', lost);
      client.on('error', () => {});
    });
  }

  /** A FATAL ErrorResponse to the client, which is closing (08006: connection_failure by default). */
  private failClient(reason: string, code = '08006'): void {
    refuse(this.options.client, code, `gatehouse: ${reason}`);
  }

  private async finish(exit: AgentExit): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.deps.onBackendKey(this, null);
    const { recorder } = this.options;
    const error = this.killReason ?? exit.error;
    if (error) await recorder.append('e', this.elapsedSeconds(), Buffer.from(error)).catch(() => {});
    const dataMasking = this.masker?.metrics();
    const end: SessionEnd = {
      exitCode: this.killReason ? AGENT_FAILURE_EXIT_CODE : exit.exitCode,
      endReason: error ?? null,
      metrics: { ...(dataMasking ? { data_masking: dataMasking } : {}), event_size: recorder.eventSize, truncated: recorder.truncated },
      guardrailsInfo: this.violations.length ? this.violations : undefined,
      maskingTotals: this.masker ? this.maskingTotals : undefined,
    };
    await closeSession(this.deps, this.sessionId, recorder, end);
    this.resolveOutcome();
  }
}
