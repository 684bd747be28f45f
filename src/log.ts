import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths that could hold a credential are censored in every log line. */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["api-key"]',
  'req.query.token',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'agentKey',
  'apiKey',
];

/**
 * JSON lines on stdout, written asynchronously so that logging never waits on the terminal or
 * pipe in a request's path; pino flushes what is buffered when the process exits.
 */
export function createLogger(name: string, level: string, serializers?: pino.LoggerOptions['serializers']): Logger {
  return pino(
    { name, level, serializers, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    pino.destination({ dest: 1, sync: false }),
  );
}
