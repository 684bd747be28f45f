import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { PgAuthError } from './errors.js';
import { pgSaslprep } from './saslprep.js';

const pbkdf2Async = promisify(pbkdf2);

export const SCRAM_SHA_256 = 'SCRAM-SHA-256';
/** No channel binding: the gateway does not offer SCRAM-SHA-256-PLUS. */
const GS2_HEADER = 'n,,';
/**
 * The server chooses the PBKDF2 iteration count; a hostile or misconfigured one could make the
 * agent burn CPU for minutes. PostgreSQL's default is 4096.
 */
export const DEFAULT_MAX_SCRAM_ITERATIONS = 1_000_000;

export interface ScramSha256ClientOptions {
  readonly password: string;
  /** PostgreSQL ignores the SCRAM user name (it uses the startup user) and libpq sends ''. */
  readonly username?: string;
  /** For test vectors only; by default 18 random bytes in base64. */
  readonly clientNonce?: string;
  readonly maxIterations?: number;
}

/**
 * The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677): client-first, client-final with the
 * proof, then the check of the server's signature, which proves the server knows the verifier
 * and is not a relay that merely accepts anything.
 */
export class ScramSha256Client {
  readonly clientFirstMessage: string;
  private readonly clientFirstBare: string;
  private readonly clientNonce: string;
  private readonly password: string;
  private readonly maxIterations: number;
  private expectedServerSignature: Buffer | undefined;
  private state: 'first' | 'final' | 'verify' | 'done' = 'first';

  constructor(options: ScramSha256ClientOptions) {
    this.clientNonce = options.clientNonce ?? randomBytes(18).toString('base64');
    if (!/^[\x21-\x2b\x2d-\x7e]+$/.test(this.clientNonce)) throw new RangeError('a SCRAM nonce is printable ASCII without commas');
    this.password = pgSaslprep(options.password);
    this.maxIterations = options.maxIterations ?? DEFAULT_MAX_SCRAM_ITERATIONS;
    this.clientFirstBare = `n=${escapeSaslName(options.username ?? '')},r=${this.clientNonce}`;
    this.clientFirstMessage = GS2_HEADER + this.clientFirstBare;
  }

  /** From the server-first message (AuthenticationSASLContinue data), the client-final message. */
  async clientFinalMessage(serverFirstMessage: string): Promise<string> {
    if (this.state !== 'first') throw new PgAuthError('SCRAM: unexpected server-first message');
    this.state = 'final';
    const attributes = parseAttributes(serverFirstMessage);
    if (attributes.has('m')) throw new PgAuthError('SCRAM: the server requires an unsupported extension');
    const nonce = attributes.get('r');
    const saltBase64 = attributes.get('s');
    const iterationsText = attributes.get('i');
    if (nonce === undefined || saltBase64 === undefined || iterationsText === undefined) {
      throw new PgAuthError('SCRAM: malformed server-first message');
    }
    if (!nonce.startsWith(this.clientNonce) || nonce.length === this.clientNonce.length) {
      throw new PgAuthError('SCRAM: the server nonce does not extend the client nonce');
    }
    const salt = Buffer.from(saltBase64, 'base64');
    if (salt.length === 0 || salt.toString('base64') !== saltBase64) throw new PgAuthError('SCRAM: invalid salt');
    if (!/^[1-9][0-9]{0,9}$/.test(iterationsText)) throw new PgAuthError('SCRAM: invalid iteration count');
    const iterations = Number(iterationsText);
    if (iterations > this.maxIterations) {
      throw new PgAuthError(`SCRAM: the server asks for ${iterations} iterations, more than the limit of ${this.maxIterations}`);
    }

    // Asynchronous PBKDF2 runs in libuv's pool, so a slow login does not stall other sessions.
    const saltedPassword = await pbkdf2Async(this.password, salt, iterations, 32, 'sha256');
    const clientKey = hmac(saltedPassword, 'Client Key');
    const storedKey = createHash('sha256').update(clientKey).digest();
    const clientFinalWithoutProof = `c=${Buffer.from(GS2_HEADER).toString('base64')},r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirstMessage},${clientFinalWithoutProof}`;
    const clientSignature = hmac(storedKey, authMessage);
    const clientProof = Buffer.alloc(clientKey.length);
    for (let index = 0; index < clientKey.length; index++) clientProof[index] = clientKey[index]! ^ clientSignature[index]!;
    this.expectedServerSignature = hmac(hmac(saltedPassword, 'Server Key'), authMessage);
    this.state = 'verify';
    return `${clientFinalWithoutProof},p=${clientProof.toString('base64')}`;
  }

  /** Checks the server-final message (AuthenticationSASLFinal data); throws PgAuthError if it does not prove the server. */
  verifyServerFinalMessage(serverFinalMessage: string): void {
    if (this.state !== 'verify' || !this.expectedServerSignature) throw new PgAuthError('SCRAM: unexpected server-final message');
    this.state = 'done';
    const attributes = parseAttributes(serverFinalMessage);
    const error = attributes.get('e');
    if (error !== undefined) throw new PgAuthError(`SCRAM: the server refused the proof (${error})`);
    const signature = Buffer.from(attributes.get('v') ?? '', 'base64');
    if (signature.length !== this.expectedServerSignature.length || !timingSafeEqual(signature, this.expectedServerSignature)) {
      throw new PgAuthError('SCRAM: the server signature does not match; the server cannot be trusted');
    }
  }

  /** True once the server's signature has been verified. */
  get verified(): boolean {
    return this.state === 'done';
  }
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** RFC 5802 saslname: ',' and '=' are escaped. */
function escapeSaslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/** "a=...,b=..." into a map; values may contain '=' but not ','. */
function parseAttributes(message: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const part of message.split(',')) {
    if (!/^[A-Za-z]=/.test(part)) throw new PgAuthError('SCRAM: malformed message from the server');
    const key = part[0]!;
    if (attributes.has(key)) throw new PgAuthError('SCRAM: malformed message from the server');
    attributes.set(key, part.slice(2));
  }
  return attributes;
}
