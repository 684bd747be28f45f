import type { Logger } from '../log.js';
import type { AgentSessionStream, PgConnect } from '../wire/transport.js';
import { PgUpstream } from './pg-upstream.js';

/** The agent's side of a native PostgreSQL session, as the session's stream drives it. */
export interface PgRelay {
  /** Client messages from the gateway; pauses the stream while the server's socket is full. */
  write(data: Buffer): void;
  cancel(): void;
  /** The gateway half-closed the stream: the client left. */
  end(): void;
  destroy(reason: string): void;
}

/**
 * Logs in to the database with the connection's credentials (they stay here) and relays bytes
 * between the server and the session's stream, each side holding the other back when full.
 * The session ends with exit code 0 when the client left, or with the reason it failed.
 */
export function startPgRelay(stream: AgentSessionStream, login: PgConnect, log: Logger, onEnd: () => void): PgRelay {
  const sessionId = login.session_id;
  const upstream = new PgUpstream(
    {
      host: login.host,
      port: login.port,
      user: login.user,
      password: login.password,
      database: login.database || undefined,
      sslmode: login.sslmode || undefined,
      parameters: login.parameters ?? {},
    },
    {
      onData: (data) => stream.write({ pg_data: { data } }),
      onClose: ({ error }) => {
        log.info({ sessionId, error }, 'native postgres session finished');
        onEnd();
        if (stream.destroyed || stream.writableEnded) return;
        stream.write({ exit: error ? { error } : { exit_code: 0 } });
        stream.end();
      },
    },
  );
  stream.on('drain', () => upstream.resumeReading());
  upstream.start();
  log.debug({ sessionId, host: login.host, port: login.port }, 'native postgres session started');
  return {
    write(data) {
      if (upstream.write(data)) return;
      stream.pause();
      upstream.onDrain(() => stream.resume());
    },
    cancel() {
      upstream.cancel().catch((error: Error) => log.warn({ sessionId, err: error.message }, 'cancel request failed'));
    },
    end: () => upstream.end(),
    destroy: (reason) => upstream.destroy(reason),
  };
}
