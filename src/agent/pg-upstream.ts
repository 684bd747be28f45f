import net from 'node:net';
import tls from 'node:tls';
import {
  PgAuthError,
  PgClientAuthenticator,
  PgMessageReader,
  PgProtocolError,
  decodeBackendMessage,
  encodeCancelRequest,
  encodeSSLRequest,
  encodeStartupMessage,
  type AuthenticationRequest,
  type PgAuthMethod,
  type PgFrame,
} from '../wire/pg/index.js';
import type { PgConnect } from '../wire/transport.js';
import { CONNECT_TIMEOUT_MS, connectFailure } from './reachability.js';

/** A peer that accepts TCP but never speaks PostgreSQL must not hold a session open forever. */
const LOGIN_TIMEOUT_MS = 30_000;
/** After end(), how long the server gets to hang up before the socket is destroyed. */
const END_GRACE_MS = 2000;
const SSL_MODES = new Set(['disable', 'prefer', 'require', 'verify-full']);
const AUTH_METHODS: readonly PgAuthMethod[] = ['trust', 'cleartext', 'md5', 'scram-sha-256'];
const LOGIN_FAILED = 'database login failed: ';

/** The login as the gateway sends it, with unset database and sslmode left out rather than empty. */
export type PgUpstreamOptions = Pick<PgConnect, 'host' | 'port' | 'user' | 'password' | 'parameters'> & {
  /** Omitted: the server's default (the user name). */
  database?: string;
  /** disable | prefer (default) | require | verify-full, as in libpq. */
  sslmode?: string;
};

export interface PgUpstreamEvents {
  /** Bytes for the client, in order, from AuthenticationOk on. Return false to pause the upstream until `resumeReading()`. */
  onData(chunk: Buffer): boolean;
  /** Exactly once. No error when the session ended cleanly; otherwise a message fit for the user, never containing the password. */
  onClose(result: { error?: string }): void;
}

/** connect → ssl → login (to AuthenticationOk) → startup (to ReadyForQuery) → settle (to a frame boundary) → relay. */
type Phase = 'idle' | 'connect' | 'ssl' | 'login' | 'startup' | 'settle' | 'relay' | 'closed';
const LOGIN_PHASES = new Set<Phase>(['connect', 'ssl', 'login', 'startup']);

/**
 * The agent's connection to the real PostgreSQL server: logs in with the stored credentials,
 * then relays bytes. Frames are parsed only until the session is ready; then chunks pass through.
 *
 * Cleartext password authentication is answered only inside TLS or when the connected address
 * (the socket's, not the host name's) is loopback, so the stored password never crosses a
 * network in the clear. TLS without verify-full does not stop an active man-in-the-middle.
 */
export class PgUpstream {
  private phase: Phase = 'idle';
  /** The socket bytes flow through: the TLS socket once upgraded. */
  private socket: net.Socket | undefined;
  private tcp: net.Socket | undefined;
  private readonly reader = new PgMessageReader({ from: 'server' });
  private authenticator: PgClientAuthenticator | undefined;
  private key: { processId: number; secretKey: Buffer } | undefined;
  private pending: Buffer[] = [];
  private outbox: Buffer[] = [];
  private drainListeners: (() => void)[] = [];
  private pumping = false;
  private eof = false;
  private ending = false;
  private terminateSent = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: PgUpstreamOptions,
    private readonly events: PgUpstreamEvents,
  ) {}

  start(): void {
    if (this.phase !== 'idle') return;
    this.phase = 'connect';
    const { host, port, sslmode = 'prefer' } = this.options;
    if (!SSL_MODES.has(sslmode)) {
      process.nextTick(() => this.finish(`unsupported sslmode ${JSON.stringify(sslmode)} (disable, prefer, require or verify-full)`));
      return;
    }
    const socket = (this.tcp = net.connect({ host, port, timeout: CONNECT_TIMEOUT_MS }));
    this.attach(socket);
    socket.once('timeout', () => this.phase === 'connect' && this.finish(connectFailure(host, port, `no answer within ${CONNECT_TIMEOUT_MS / 1000}s`)));
    socket.once('connect', () => {
      socket.setTimeout(0).setNoDelay(true);
      this.timer = setTimeout(() => this.finish(`${LOGIN_FAILED}no answer from the database within ${LOGIN_TIMEOUT_MS / 1000}s`), LOGIN_TIMEOUT_MS);
      if (sslmode === 'disable') return this.sendStartup(false);
      this.phase = 'ssl';
      this.reader.expectNegotiationAnswer();
      socket.write(encodeSSLRequest());
    });
  }

  write(chunk: Buffer): boolean {
    this.terminateSent = lastMessageType(chunk) === 0x58; // 'X'
    if (this.ending || this.phase === 'closed') return true;
    if (this.phase === 'settle' || this.phase === 'relay') return this.socket!.write(chunk);
    this.pending.push(chunk);
    return true;
  }

  onDrain(listener: () => void): void {
    this.drainListeners.push(listener);
  }

  resumeReading(): void {
    this.socket?.resume();
  }

  cancel(): Promise<void> {
    const key = this.key;
    if (!key || this.phase === 'closed') return Promise.resolve();
    const { host, port } = this.options;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, timeout: CONNECT_TIMEOUT_MS });
      socket.once('connect', () => socket.end(encodeCancelRequest(key.processId, key.secretKey)));
      // Once the request is out, a server slow to hang up is no failure.
      socket.once('timeout', () => socket.destroy(socket.connecting ? new Error(`no answer within ${CONNECT_TIMEOUT_MS / 1000}s`) : undefined));
      socket.once('error', (error) => reject(new Error(connectFailure(host, port, error.message))));
      socket.once('close', () => resolve());
      socket.resume();
    });
  }

  end(): void {
    if (this.phase !== 'settle' && this.phase !== 'relay') return this.finish();
    this.ending = true;
    // end(), not destroy(): the client's Terminate may still be in the write buffer.
    this.socket!.end().resume();
    this.timer = setTimeout(() => this.finish(), END_GRACE_MS);
  }

  destroy(reason: string): void {
    this.finish(reason);
  }

  private attach(socket: net.Socket): void {
    this.socket = socket;
    socket.on('data', this.onSocketData).on('drain', this.onSocketDrain).on('close', this.onSocketClose).on('error', this.onSocketError);
  }

  private readonly onSocketData = (chunk: Buffer): void => {
    if (this.ending || this.phase === 'closed') return;
    if (this.phase !== 'relay') {
      this.reader.push(chunk);
      void this.pump();
    } else if (!this.events.onData(chunk)) this.socket!.pause();
  };

  private readonly onSocketDrain = (): void => {
    for (const listener of this.drainListeners.splice(0)) listener();
  };

  /** Through the pump, so that frames received before the close are handled first. */
  private readonly onSocketClose = (): void => {
    this.eof = true;
    void this.pump();
  };

  private readonly onSocketError = (error: Error): void => {
    if (this.ending) return this.finish();
    if (this.phase === 'connect') return this.finish(connectFailure(this.options.host, this.options.port, error.message));
    this.finish(`${LOGIN_PHASES.has(this.phase) ? LOGIN_FAILED : 'connection to the database failed: '}${error.message}`);
  };

  /** One pass at a time: SCRAM answers are async and frames must stay in order. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let frame = this.reader.next(); frame && this.phase !== 'closed'; frame = this.reader.next()) await this.handleFrame(frame);
      this.flushOutbox();
      // Raw relaying may only begin where a frame ends (the server rarely sends past ReadyForQuery anyway).
      if (this.phase === 'settle' && this.reader.bufferedBytes === 0) this.phase = 'relay';
      if (this.eof && (this.ending || this.terminateSent)) this.finish();
      else if (this.eof) this.finish(`${LOGIN_PHASES.has(this.phase) ? LOGIN_FAILED : ''}the database closed the connection`);
    } catch (error) {
      const prefix = error instanceof PgAuthError || LOGIN_PHASES.has(this.phase) ? LOGIN_FAILED : 'connection to the database failed: ';
      this.finish(prefix + (error instanceof Error ? error.message : String(error)));
    } finally {
      this.pumping = false;
    }
  }

  private async handleFrame(frame: PgFrame): Promise<void> {
    if (frame.kind === 'negotiation') return this.negotiated(frame.answer);
    if (frame.kind !== 'typed') throw new PgProtocolError('unexpected startup packet from the server');
    if (frame.type === 'E' && LOGIN_PHASES.has(this.phase)) {
      // The server's login error carries no secret and tells the user more than a message of ours would.
      this.outbox.push(frame.raw);
      this.flushOutbox();
      const message = decodeBackendMessage(frame);
      return this.finish(LOGIN_FAILED + (message.name === 'ErrorResponse' ? message.fields.message : 'unknown error'));
    }
    if (this.phase === 'ssl') throw new PgProtocolError(`unexpected message '${frame.type}' in answer to SSLRequest`);
    if (this.phase === 'login') {
      // NoticeResponse and NegotiateProtocolVersion mean nothing to a client that is not logged in yet.
      if (frame.type !== 'R') return;
      const reply = await this.authenticator!.respond(decodeBackendMessage(frame) as AuthenticationRequest);
      if (this.phase !== 'login') return;
      if (reply) this.socket!.write(reply);
      if (!this.authenticator!.authenticated) return;
      this.phase = 'startup';
    }
    this.outbox.push(frame.raw);
    const message = frame.type === 'K' || frame.type === 'Z' ? decodeBackendMessage(frame) : undefined;
    if (message?.name === 'BackendKeyData') this.key = { processId: message.processId, secretKey: message.secretKey };
    if (message?.name === 'ReadyForQuery' && this.phase === 'startup') {
      clearTimeout(this.timer);
      this.phase = 'settle';
      for (const chunk of this.pending) this.socket!.write(chunk);
      this.pending = [];
    }
  }

  private negotiated(answer: 'S' | 'N' | 'G'): void {
    const { host, sslmode = 'prefer' } = this.options;
    if (answer === 'N' && sslmode === 'prefer') return this.sendStartup(false);
    if (answer !== 'S') return this.finish(`${LOGIN_FAILED}the database server does not support TLS, which sslmode=${sslmode} requires`);
    // Bytes that arrived before the handshake were not protected by it (CVE-2021-23222).
    if (this.reader.bufferedBytes > 0) throw new PgProtocolError('the server sent unencrypted data after agreeing to TLS');
    this.tcp!.off('data', this.onSocketData).off('drain', this.onSocketDrain).off('close', this.onSocketClose);
    const secure = tls.connect({
      socket: this.tcp,
      host,
      // SNI takes names only; verify-full still checks the certificate against `host`.
      servername: net.isIP(host) ? undefined : host,
      rejectUnauthorized: sslmode === 'verify-full',
    });
    this.attach(secure);
    secure.once('secureConnect', () => this.sendStartup(true));
  }

  private sendStartup(secure: boolean): void {
    if (this.phase === 'closed') return;
    const { user, password, database, parameters } = this.options;
    const cleartext = secure || isLoopback(this.socket!.remoteAddress);
    const allowedMethods = new Set(AUTH_METHODS.filter((method) => cleartext || method !== 'cleartext'));
    this.authenticator = new PgClientAuthenticator({ user, password }, { allowedMethods });
    // A Map, because the client chooses the names and "__proto__" must stay a plain key.
    const startup = new Map([['user', user]]);
    if (database) startup.set('database', database);
    for (const [name, value] of Object.entries(parameters)) {
      if (name !== 'user' && name !== 'database') startup.set(name, value);
    }
    this.phase = 'login';
    this.socket!.write(encodeStartupMessage(startup));
  }

  private flushOutbox(): void {
    if (this.outbox.length === 0 || this.phase === 'closed') return;
    const data = this.outbox.length === 1 ? this.outbox[0]! : Buffer.concat(this.outbox);
    this.outbox = [];
    if (!this.events.onData(data)) this.socket?.pause();
  }

  private finish(error?: string): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    clearTimeout(this.timer);
    this.socket?.destroy();
    this.tcp?.destroy();
    this.pending = this.outbox = [];
    this.drainListeners = [];
    this.events.onClose(error === undefined ? {} : { error });
  }
}

/** The type byte of the last message in `chunk`, found by walking the length headers. */
function lastMessageType(chunk: Buffer): number | undefined {
  let type: number | undefined;
  for (let offset = 0; offset + 5 <= chunk.length; offset += 1 + chunk.readUInt32BE(offset + 1)) type = chunk[offset];
  return type;
}

function isLoopback(address: string | undefined): boolean {
  const v4 = address?.startsWith('::ffff:') ? address.slice(7) : address;
  return address === '::1' || !!v4?.startsWith('127.');
}
