import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../log.js';
import {
  METADATA_SESSION_ID,
  type AgentSessionStream,
  type AgentTransportClientApi,
  type ExecSpec,
  type GatewaySessionMessage,
} from '../wire/transport.js';
import { startPgRelay, type PgRelay } from './pg-relay.js';
import { ProcessRunner } from './process-runner.js';
import { checkReachable } from './reachability.js';

export interface SessionHandle {
  kill(reason: string): void;
  /** Resolves with the session id once the gateway hands this stream a session. */
  claimed: Promise<string>;
  done: Promise<void>;
}

/**
 * Serves one session on its own Session stream: receives the spec and stdin, runs the
 * process, sends output and the exit. If the stream breaks, the process is killed: a session
 * nobody records must not keep running.
 *
 * Opened with a session id, the stream serves that offered session. Opened without one it is
 * a warm stream: it waits, ready, until the gateway sends it the next session's spec, which
 * takes the offer round trip off an exec's critical path.
 */
export function serveSession(
  client: AgentTransportClientApi,
  authMetadata: grpc.Metadata,
  offeredSessionId: string | undefined,
  log: Logger,
): SessionHandle {
  const metadata = authMetadata.clone();
  if (offeredSessionId) metadata.set(METADATA_SESSION_ID, offeredSessionId);
  const stream: AgentSessionStream = client.Session(metadata);
  let sessionId = offeredSessionId ?? '';
  let finished = false;

  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  let resolveClaimed!: (sessionId: string) => void;
  let rejectClaimed!: (error: Error) => void;
  const claimed = new Promise<string>((resolve, reject) => {
    resolveClaimed = resolve;
    rejectClaimed = reject;
  });
  claimed.catch(() => {});

  const runner = new ProcessRunner({
    onOutput(streamName, data) {
      if (finished) return true;
      return stream.write({ output: { stream: streamName, data } });
    },
    onExit(exit) {
      if (finished) return;
      finished = true;
      log.info({ sessionId, exitCode: exit.exit_code, error: exit.error || undefined }, 'session finished');
      stream.write({ exit });
      stream.end();
    },
  });
  stream.on('drain', () => runner.resumeOutput());
  /** Set when the session is native PostgreSQL access rather than a process. */
  let pg: PgRelay | undefined;

  function start(spec: ExecSpec): void {
    runner.start(spec);
    if (spec.stdin?.length) runner.writeStdin(spec.stdin);
    if (spec.stdin_complete) runner.endStdin();
  }

  stream.on('data', (message: GatewaySessionMessage) => {
    switch (message.kind) {
      case 'spec': {
        const spec = message.spec;
        sessionId = spec.session_id || sessionId;
        resolveClaimed(sessionId);
        log.debug({ sessionId, command: spec.command?.[0] }, 'session started');
        if (!spec.reachability_check) {
          start(spec);
          break;
        }
        // Stdin and kill messages wait (gRPC flow control) until the server is known reachable.
        stream.pause();
        void checkReachable(spec.reachability_check).then((failure) => {
          if (failure) runner.refuse(failure);
          else start(spec);
          stream.resume();
        });
        break;
      }
      case 'stdin':
        if (!runner.writeStdin(message.stdin.data)) {
          stream.pause();
          runner.onStdinDrain(() => stream.resume());
        }
        break;
      case 'stdin_end':
        if (pg) pg.end();
        else runner.endStdin();
        break;
      case 'kill':
        if (pg) pg.destroy(message.kill.reason || 'session killed');
        else runner.kill(message.kill.reason || 'session killed');
        break;
      case 'pg_connect':
        sessionId = message.pg_connect.session_id || sessionId;
        resolveClaimed(sessionId);
        pg = startPgRelay(stream, message.pg_connect, log, () => (finished = true));
        break;
      case 'pg_data':
        pg?.write(message.pg_data.data);
        break;
      case 'pg_cancel':
        pg?.cancel();
        break;
    }
  });
  const onBroken = (error?: Error) => {
    rejectClaimed(new Error('session stream closed before it was used'));
    if (!finished) {
      finished = true;
      if (sessionId) {
        log.warn({ sessionId, err: error?.message }, 'session stream lost; killing the process');
        runner.kill('session stream to the gateway was lost');
      }
    }
    resolveDone();
  };
  const onLost = (error?: Error) => (pg && !finished ? pg.destroy('session stream to the gateway was lost') : onBroken(error));
  stream.on('error', onLost);
  stream.on('end', () => onLost());
  stream.on('close', () => resolveDone());

  return {
    kill(reason: string) {
      if (pg) pg.destroy(reason);
      else if (sessionId) runner.kill(reason);
      else stream.cancel();
    },
    claimed,
    done,
  };
}
