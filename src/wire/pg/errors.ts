/**
 * Errors of the PostgreSQL wire module. They carry no HTTP status: the proxy turns them into a
 * FATAL ErrorResponse (SQLSTATE 08P01 for protocol errors, 28000/28P01 for authentication) or
 * closes the socket. Messages never contain a password.
 */

/** The byte stream is not a valid PostgreSQL protocol stream (bad length, truncated field, ...). */
export class PgProtocolError extends Error {
  /** SQLSTATE a proxy should report: protocol_violation. */
  readonly sqlState = '08P01';
  constructor(message: string) {
    super(message);
    this.name = 'PgProtocolError';
  }
}

/** Logging in to the real server failed or the server misbehaved during authentication. */
export class PgAuthError extends Error {
  /** SQLSTATE a proxy should report: invalid_authorization_specification. */
  readonly sqlState = '28000';
  constructor(message: string) {
    super(message);
    this.name = 'PgAuthError';
  }
}
