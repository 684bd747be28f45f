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

export function createLogger(name: string, level: string, serializers?: pino.LoggerOptions['serializers']): Logger {
  return pino({ name, level, serializers, redact: { paths: REDACT_PATHS, censor: '[redacted]' } });
}
