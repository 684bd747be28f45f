import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../log.js';
import {
  METADATA_SESSION_ID,
  type AgentSessionStream,
  type AgentTransportClientApi,
  type GatewaySessionMessage,
} from '../wire/transport.js';
import { ProcessRunner } from './process-runner.js';

/**
 * Serves one offered session on its own Session stream: receives the spec and stdin, runs the
 * process, sends output and the exit. If the stream breaks, the process is killed: a session
 * nobody records must not keep running.
 */
export function serveSession(
  client: AgentTransportClientApi,
  authMetadata: grpc.Metadata,
  sessionId: string,
  log: Logger,
): { kill(reason: string): void; done: Promise<void> } {
  const metadata = authMetadata.clone();
  metadata.set(METADATA_SESSION_ID, sessionId);
  const stream: AgentSessionStream = client.Session(metadata);
  let finished = false;

  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));

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

  stream.on('data', (message: GatewaySessionMessage) => {
    switch (message.kind) {
      case 'spec':
        log.info({ sessionId, command: message.spec.command[0] }, 'session started');
        void runner.start(message.spec);
        break;
      case 'stdin':
        if (!runner.writeStdin(message.stdin.data)) {
          stream.pause();
          runner.onStdinDrain(() => stream.resume());
        }
        break;
      case 'stdin_end':
        runner.endStdin();
        break;
      case 'kill':
        runner.kill(message.kill.reason || 'session killed');
        break;
    }
  });
  const onBroken = (error?: Error) => {
    if (!finished) {
      log.warn({ sessionId, err: error?.message }, 'session stream lost; killing the process');
      finished = true;
      runner.kill('session stream to the gateway was lost');
    }
    resolveDone();
  };
  stream.on('error', onBroken);
  stream.on('end', () => onBroken());
  stream.on('close', () => resolveDone());

  return {
    kill(reason: string) {
      runner.kill(reason);
    },
    done,
  };
}
