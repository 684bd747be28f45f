/**
 * The one error hierarchy. Services throw these; the HTTP layer maps them to statuses in
 * one place (the error handler in src/gateway/http/app.ts). The message is what the caller sees, so it
 * never carries a secret or a stack trace.
 */
export abstract class GatehouseError extends Error {
  abstract readonly status: number;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequestError extends GatehouseError {
  readonly status = 400;
}

export class UnauthorizedError extends GatehouseError {
  readonly status = 401;
}

export class ForbiddenError extends GatehouseError {
  readonly status = 403;
}

export class NotFoundError extends GatehouseError {
  readonly status = 404;
}

export class ConflictError extends GatehouseError {
  readonly status = 409;
}

export class GoneError extends GatehouseError {
  readonly status = 410;
}

export class UnprocessableError extends GatehouseError {
  readonly status = 422;
}

/** Too many attempts; the answer carries `Retry-After`. */
export class TooManyRequestsError extends GatehouseError {
  readonly status = 429;
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** A server-side fault the operator can act on; the message says what to fix. */
export class ServerConfigurationError extends GatehouseError {
  readonly status = 500;
}

/** A system Gatehouse depends on (a git server) failed or could not be reached. */
export class UpstreamError extends GatehouseError {
  readonly status = 502;
}
