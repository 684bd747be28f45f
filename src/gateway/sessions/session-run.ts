import { StringDecoder } from 'node:string_decoder';
import { describeViolations, type GuardrailViolation } from '../../guardrails/index.js';
import type { Logger } from '../../log.js';
import {
  DATA_CHUNK_BYTES,
  type AgentSessionMessage,
  type ExecSpec,
  type GatewaySessionStream,
} from '../../wire/transport.js';
import type { EventWriter, Segment } from '../events/event-log.js';
import { AgentOfflineError, type AgentHub } from '../transport/agent-hub.js';
import type { SessionOutputFilter } from './session-output.js';
import type { SessionEnd } from './session-store.js';

/** Stored exit code when the agent could not report one (killed, agent lost, agent failure). */
export const AGENT_FAILURE_EXIT_CODE = 254;
/** Exit code of a session a guard rail blocked (the reference's). */
export const GUARDRAIL_EXIT_CODE = 254;
/** Exit code when the gateway never got one from an agent (agent offline). */
export const NO_EXIT_CODE = -2;
const KILL_GRACE_MS = 5_000;
const SESSION_OPEN_TIMEOUT_MS = 10_000;
const FLUSH_INTERVAL_MS = 1_000;

export interface RunOutcome {
  exitCode: number;
  /** Why the session ended other than by the process exiting on its own. */
  error: string | undefined;
  executionTimeMs: number;
}

/** Seconds since `start` (an hrtime), to the microsecond: an event's time in a recording. */
export function secondsSince(start: bigint): number {
  return Math.round(Number(process.hrtime.bigint() - start) / 1e3) / 1e6;
}

/**
 * Closes a session with its recording's last segment (one statement on PostgreSQL). Whatever
 * happened to the recording, the session does not stay open.
 */
export async function closeSession(
  deps: Pick<SessionRunDeps, 'log' | 'finishSession'>,
  sessionId: string,
  recorder: EventWriter,
  end: SessionEnd,
): Promise<void> {
  let lastSegment: Segment | undefined;
  try {
    lastSegment = await recorder.close();
  } catch (e) {
    deps.log.error({ err: e, sessionId }, 'failed storing session recording');
  }
  try {
    await deps.finishSession(sessionId, end, lastSegment);
  } catch (e) {
    deps.log.error({ err: e, sessionId }, 'failed storing the end of the session');
    if (lastSegment) await deps.finishSession(sessionId, end).catch(() => {});
  }
}

/** The caller's copy of the output, kept only while somebody waits for it, capped. */
export class OutputCollector {
  private parts: Buffer[] = [];
  private bytes = 0;
  truncated = false;
  active = true;

  constructor(private readonly maxBytes: number) {}

  add(data: Buffer): void {
    if (!this.active || this.truncated) return;
    const room = this.maxBytes - this.bytes;
    if (data.length > room) this.truncated = true;
    const kept = data.length > room ? data.subarray(0, room) : data;
    if (kept.length) {
      // Copy: the chunk may be a view into a larger gRPC buffer.
      this.parts.push(Buffer.from(kept));
      this.bytes += kept.length;
    }
  }

  /** Stops collecting and frees what was kept (the caller got a 202 and will poll). */
  abandon(): void {
    this.active = false;
    this.parts = [];
    this.bytes = 0;
  }

  /** The output as UTF-8 text, piece by piece (invalid bytes become U+FFFD). */
  *text(): Generator<string> {
    const decoder = new StringDecoder('utf8');
    for (const part of this.parts) yield decoder.write(part);
    yield decoder.end();
  }
}

/** What the session's policy decided before it runs: the output filters, and input violations (nothing runs then). */
export interface PreparedPolicy {
  filter: SessionOutputFilter;
  inputViolations: GuardrailViolation[];
}

export interface SessionRunDeps {
  hub: Pick<AgentHub, 'waitForAgent' | 'openSession'>;
  log: Logger;
  agentConnectWaitMs: number;
  /** Closes the session row, storing the recording's last segment with it. */
  finishSession(sessionId: string, end: SessionEnd, lastSegment?: Segment): Promise<void>;
}

/**
 * One execution from the gateway's side: waits for the agent, hands it the spec and stdin,
 * records output as it arrives (waiting on the recorder, which holds back the agent through
 * gRPC flow control), and closes the session exactly once however it ends.
 */
export class SessionRun {
  readonly output: OutputCollector;
  readonly outcome: Promise<RunOutcome>;
  private readonly startedAt = process.hrtime.bigint();
  private stream: GatewaySessionStream | undefined;
  private killReason: string | undefined;
  private resolveOutcome!: (outcome: RunOutcome) => void;
  private finished = false;
  /** The agent reported the exit: no more stdin is sent. */
  private exited = false;
  private filter: SessionOutputFilter | undefined;

  constructor(
    private readonly deps: SessionRunDeps,
    readonly sessionId: string,
    readonly agentId: string,
    private readonly recorder: EventWriter,
    outputMaxBytes: number,
  ) {
    this.output = new OutputCollector(outputMaxBytes);
    this.outcome = new Promise((resolve) => (this.resolveOutcome = resolve));
  }

  elapsedSeconds(): number {
    return secondsSince(this.startedAt);
  }

  /**
   * Runs the session. The agent's stream is obtained while the session row is being stored
   * (`rowStored`) and the policy resolved, so the waits overlap; nothing is recorded or run
   * before the row exists, and if storing it fails the run is dropped without a trace. Input a
   * guard rail blocks is recorded, and never reaches the agent.
   */
  async run(spec: ExecSpec, script: Buffer, rowStored: Promise<unknown>, policyReady: Promise<PreparedPolicy>): Promise<void> {
    const streamReady = this.acquireStream();
    streamReady.catch(() => {});
    try {
      await rowStored;
    } catch {
      this.finished = true;
      void streamReady.then((stream) => stream.end(), () => {});
      return;
    }
    const flushTimer = setInterval(() => void this.recorder.flush().catch(() => {}), FLUSH_INTERVAL_MS);
    try {
      await this.recorder.append('i', 0, script);
      const { filter, inputViolations } = await policyReady;
      this.filter = filter;
      if (inputViolations.length) {
        void streamReady.then((stream) => stream.end(), () => {});
        await this.finish(GUARDRAIL_EXIT_CODE, describeViolations(inputViolations), inputViolations);
        return;
      }
      const stream = await streamReady;
      this.stream = stream;
      if (this.killReason) this.sendKill(this.killReason);
      // Sending stdin and reading output run side by side: a process may exit, or fill its
      // output, before it has read all of its stdin.
      const sending = this.send(stream, spec, script);
      const exit = await this.pump(stream);
      this.exited = true;
      void sending.catch(() => {});
      await this.finish(exit.exitCode, exit.error);
    } catch (error) {
      if (error instanceof AgentOfflineError) {
        await this.finish(this.stream ? AGENT_FAILURE_EXIT_CODE : NO_EXIT_CODE, error.message);
      } else {
        this.deps.log.error({ err: error, sessionId: this.sessionId }, 'session failed');
        await this.finish(AGENT_FAILURE_EXIT_CODE, 'internal gateway error while running the session');
      }
    } finally {
      clearInterval(flushTimer);
    }
  }

  private async acquireStream(): Promise<GatewaySessionStream> {
    if (!(await this.deps.hub.waitForAgent(this.agentId, this.deps.agentConnectWaitMs))) {
      throw new AgentOfflineError('agent is offline');
    }
    if (this.killReason) throw new AgentOfflineError(this.killReason);
    return this.deps.hub.openSession(this.agentId, this.sessionId, SESSION_OPEN_TIMEOUT_MS);
  }

  kill(reason: string): void {
    if (this.finished || this.killReason) return;
    this.killReason = reason;
    if (this.stream) this.sendKill(reason);
  }

  private sendKill(reason: string): void {
    const stream = this.stream!;
    stream.write({ kill: { reason } });
    // An agent that does not answer loses the stream, and with it the process.
    setTimeout(() => {
      if (!this.finished) stream.end();
    }, KILL_GRACE_MS).unref();
  }

  private async send(stream: GatewaySessionStream, spec: ExecSpec, script: Buffer): Promise<void> {
    const write = (message: Parameters<GatewaySessionStream['write']>[0]) =>
      stream.write(message) ? Promise.resolve() : new Promise<void>((resolve) => stream.once('drain', resolve));
    const head = script.subarray(0, DATA_CHUNK_BYTES);
    const complete = head.length === script.length;
    await write({ spec: { ...spec, session_id: this.sessionId, stdin: head, stdin_complete: complete } });
    if (complete) return;
    for (let offset = head.length; offset < script.length; offset += DATA_CHUNK_BYTES) {
      if (stream.writableEnded || this.killReason || this.exited) return;
      await write({ stdin: { data: script.subarray(offset, offset + DATA_CHUNK_BYTES) } });
    }
    if (!stream.writableEnded) stream.write({ stdin_end: {} });
  }

  private async pump(stream: GatewaySessionStream): Promise<{ exitCode: number; error: string | undefined }> {
    try {
      // Returning at the exit must not destroy the stream: that would abort it (an error built
      // and thrown per session) instead of letting both sides end it.
      for await (const message of stream.iterator({ destroyOnReturn: false }) as AsyncIterable<AgentSessionMessage>) {
        if (message.kind === 'output') {
          const type = message.output.stream === 'OUTPUT_STREAM_STDERR' ? 'e' : 'o';
          await this.record(type, this.filter ? this.filter.write(type, message.output.data) : message.output.data);
          const blocked = this.filter?.violations ?? [];
          if (blocked.length) this.kill(describeViolations(blocked));
        } else if (message.kind === 'exit') {
          const exit = message.exit;
          stream.end();
          const error = exit.error || undefined;
          return { exitCode: exit.exit_code ?? AGENT_FAILURE_EXIT_CODE, error };
        }
      }
    } catch (error) {
      this.deps.log.warn({ sessionId: this.sessionId, err: (error as Error).message }, 'session stream broke');
    }
    return { exitCode: AGENT_FAILURE_EXIT_CODE, error: this.killReason ?? 'agent disconnected during the session' };
  }

  private async record(type: 'o' | 'e', data: Buffer): Promise<void> {
    if (data.length === 0) return;
    this.output.add(data);
    await this.recorder.append(type, this.elapsedSeconds(), data);
  }

  private async finish(exitCode: number, error: string | undefined, inputViolations: GuardrailViolation[] = []): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    const executionTimeMs = Math.round(Number(process.hrtime.bigint() - this.startedAt) / 1e6);
    // Output the filters still hold (a last line without a newline) is part of the session;
    // if the filters cannot give it, it is withheld rather than recorded unfiltered.
    let held: ReturnType<SessionOutputFilter['end']> = [];
    try {
      held = this.filter?.end() ?? [];
    } catch (e) {
      this.deps.log.error({ err: e, sessionId: this.sessionId }, 'output filter failed at the end of the session');
    }
    for (const { type, data } of held) await this.record(type, data).catch(() => {});
    const outputViolations = this.filter?.violations ?? [];
    if (outputViolations.length) {
      exitCode = GUARDRAIL_EXIT_CODE;
      error = describeViolations(outputViolations);
    }
    const guardrailsInfo = [...inputViolations, ...outputViolations];
    if (error) {
      const text = Buffer.from(error);
      this.output.add(text);
      await this.recorder.append('e', this.elapsedSeconds(), text).catch(() => {});
    }
    const dataMasking = this.filter?.maskingMetrics();
    const metrics = { ...(dataMasking ? { data_masking: dataMasking } : {}), event_size: this.recorder.eventSize, truncated: this.recorder.truncated };
    const end: SessionEnd = {
      exitCode,
      endReason: error ?? null,
      metrics,
      guardrailsInfo: guardrailsInfo.length ? guardrailsInfo : undefined,
      maskingTotals: this.filter?.maskingTotals(),
    };
    await closeSession(this.deps, this.sessionId, this.recorder, end);
    this.resolveOutcome({ exitCode, error, executionTimeMs });
  }
}
