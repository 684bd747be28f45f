import { createHash } from 'node:crypto';
import type { AuthenticationRequest } from './backend.js';
import { PgAuthError } from './errors.js';
import { encodePasswordMessage, encodeSASLInitialResponse, encodeSASLResponse } from './frontend.js';
import { SCRAM_SHA_256, ScramSha256Client } from './scram.js';

export type PgAuthMethod = 'trust' | 'cleartext' | 'md5' | 'scram-sha-256';

export interface PgLoginCredentials {
  /** The real database user, as sent in the StartupMessage (MD5 salts with it). */
  readonly user: string;
  readonly password: string;
}

export interface PgClientAuthOptions {
  /**
   * Methods the agent accepts, like libpq's require_auth; by default all four. Leaving out
   * 'cleartext' keeps the stored password off a connection that would send it in the clear.
   */
  readonly allowedMethods?: ReadonlySet<PgAuthMethod>;
  /** For test vectors only. */
  readonly scramClientNonce?: string;
  readonly maxScramIterations?: number;
}

/** `'md5' + md5hex(md5hex(password + user) + salt)`, what AuthenticationMD5Password asks for. */
export function md5PasswordResponse(user: string, password: string, salt: Uint8Array): string {
  const inner = createHash('md5').update(password + user, 'utf8').digest('hex');
  return 'md5' + createHash('md5').update(inner, 'latin1').update(salt).digest('hex');
}

/**
 * Answers the real server's authentication requests on the agent's behalf, one
 * Authentication ('R') message at a time, until AuthenticationOk. Feed every Authentication
 * message the server sends to `respond`; send what it returns (when not null).
 */
export class PgClientAuthenticator {
  private readonly allowed: ReadonlySet<PgAuthMethod>;
  private scram: ScramSha256Client | undefined;
  private chosenMethod: PgAuthMethod | undefined;
  private isAuthenticated = false;

  constructor(
    private readonly credentials: PgLoginCredentials,
    private readonly options: PgClientAuthOptions = {},
  ) {
    this.allowed = options.allowedMethods ?? new Set<PgAuthMethod>(['trust', 'cleartext', 'md5', 'scram-sha-256']);
  }

  /** True after AuthenticationOk was accepted. */
  get authenticated(): boolean {
    return this.isAuthenticated;
  }

  /** The method the server used, once it asked for one (or 'trust' after a bare AuthenticationOk). */
  get method(): PgAuthMethod | undefined {
    return this.chosenMethod;
  }

  /** The message to send in answer to `request`, or null when nothing is to be sent. Throws PgAuthError. */
  async respond(request: AuthenticationRequest): Promise<Buffer | null> {
    if (this.isAuthenticated) throw new PgAuthError('authentication request after AuthenticationOk');
    switch (request.name) {
      case 'AuthenticationOk':
        if (this.scram && !this.scram.verified) {
          // Accepting this would let a server that never knew the password impersonate the real one.
          throw new PgAuthError('the server ended SCRAM authentication without proving its identity');
        }
        this.use(this.chosenMethod ?? 'trust');
        this.isAuthenticated = true;
        return null;
      case 'AuthenticationCleartextPassword':
        this.use('cleartext');
        return encodePasswordMessage(this.credentials.password);
      case 'AuthenticationMD5Password':
        this.use('md5');
        return encodePasswordMessage(md5PasswordResponse(this.credentials.user, this.credentials.password, request.salt));
      case 'AuthenticationSASL': {
        if (!request.mechanisms.includes(SCRAM_SHA_256)) {
          throw new PgAuthError(`no supported SASL mechanism offered (${request.mechanisms.join(', ')})`);
        }
        this.use('scram-sha-256');
        if (this.scram) throw new PgAuthError('the server restarted SASL authentication');
        this.scram = new ScramSha256Client({
          password: this.credentials.password,
          clientNonce: this.options.scramClientNonce,
          maxIterations: this.options.maxScramIterations,
        });
        return encodeSASLInitialResponse(SCRAM_SHA_256, Buffer.from(this.scram.clientFirstMessage, 'utf8'));
      }
      case 'AuthenticationSASLContinue': {
        if (!this.scram) throw new PgAuthError('SASLContinue without a SASL exchange');
        const clientFinal = await this.scram.clientFinalMessage(request.data.toString('utf8'));
        return encodeSASLResponse(Buffer.from(clientFinal, 'utf8'));
      }
      case 'AuthenticationSASLFinal':
        if (!this.scram) throw new PgAuthError('SASLFinal without a SASL exchange');
        this.scram.verifyServerFinalMessage(request.data.toString('utf8'));
        return null;
      case 'AuthenticationOther':
        throw new PgAuthError(`the server asks for an unsupported authentication method (code ${request.code})`);
    }
  }

  private use(method: PgAuthMethod): void {
    if (!this.allowed.has(method)) throw new PgAuthError(`the server asks for ${method} authentication, which is not allowed`);
    this.chosenMethod = method;
  }
}
