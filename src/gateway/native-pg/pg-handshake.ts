import { once } from 'node:events';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import {
  PgMessageReader,
  PgProtocolError,
  decodePasswordMessage,
  decodeStartupPacket,
  encodeAuthentication,
  encodeErrorResponse,
  type PgFrame,
} from '../../wire/pg/index.js';

/** What a client's first packets asked for. */
export type ClientHello =
  | {
      kind: 'startup';
      /** The connection from here on (TLS-wrapped when the client negotiated it). */
      socket: Duplex;
      /** Holds whatever the client sent past its startup packet. */
      reader: PgMessageReader;
      parameters: ReadonlyMap<string, string>;
      protocolVersion: number;
    }
  | { kind: 'cancel'; processId: number; secretKey: Buffer };

/** A client that did not finish the handshake; `message` is for the log only. */
export class HandshakeError extends Error {}

/** Startup packets larger than this are refused (PostgreSQL's own limit is 10,000 bytes). */
const HANDSHAKE_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** The next protocol unit, reading the socket only as far as needed (paused mode: nothing is read ahead into a stream we may wrap in TLS). */
async function nextFrame(socket: Duplex, reader: PgMessageReader): Promise<PgFrame> {
  for (;;) {
    const frame = reader.next();
    if (frame) return frame;
    const chunk = socket.read() as Buffer | null;
    if (chunk) {
      reader.push(chunk);
      continue;
    }
    if (socket.readableEnded || socket.destroyed) throw new HandshakeError('the client closed the connection during the handshake');
    try {
      await Promise.race([once(socket, 'readable'), once(socket, 'end'), once(socket, 'close')]);
    } catch (error) {
      throw new HandshakeError(`the client's connection failed during the handshake: ${(error as Error).message}`);
    }
  }
}

/** FATAL ErrorResponse and close: how a PostgreSQL server refuses a connection. */
export function refuse(socket: Duplex, code: string, message: string): void {
  if (!socket.destroyed && !socket.writableEnded) socket.end(encodeErrorResponse({ severity: 'FATAL', code, message }));
}

/**
 * Reads the client's opening: SSLRequest (answered `S` and upgraded when `secureContext` is
 * set, else `N`), GSSENCRequest (`N`), then a StartupMessage or a CancelRequest. With TLS
 * configured, a StartupMessage in clear is refused.
 */
export async function readClientHello(socket: Duplex, secureContext: tls.SecureContext | undefined): Promise<ClientHello> {
  let reader = new PgMessageReader({ from: 'client', maxMessageBytes: HANDSHAKE_MAX_MESSAGE_BYTES });
  let encrypted = false;
  for (;;) {
    const frame = await nextFrame(socket, reader);
    if (frame.kind !== 'startup') throw new HandshakeError('expected a startup packet');
    const packet = decodeStartupPacket(frame.body);
    switch (packet.name) {
      case 'CancelRequest':
        return { kind: 'cancel', processId: packet.processId, secretKey: packet.secretKey };
      case 'GSSENCRequest':
        socket.write('N');
        continue;
      case 'SSLRequest': {
        if (!secureContext || encrypted) {
          socket.write('N');
          continue;
        }
        // Bytes sent before the TLS handshake would not be protected by it (CVE-2021-23214).
        if (reader.bufferedBytes > 0 || socket.readableLength > 0) throw new PgProtocolError('data received ahead of the TLS handshake');
        socket.write('S');
        const secure = new tls.TLSSocket(socket as import('node:net').Socket, { isServer: true, secureContext, ALPNProtocols: ['postgresql'] });
        await Promise.race([
          once(secure, 'secure'),
          once(secure, 'error').then(([error]) => Promise.reject(new HandshakeError(`TLS handshake failed: ${(error as Error).message}`))),
        ]);
        secure.pause();
        socket = secure;
        encrypted = true;
        reader = new PgMessageReader({ from: 'client', maxMessageBytes: HANDSHAKE_MAX_MESSAGE_BYTES });
        continue;
      }
      case 'StartupMessage':
        if (secureContext && !encrypted) {
          refuse(socket, '28000', 'this server accepts only TLS connections (sslmode=require)');
          throw new HandshakeError('client did not ask for TLS');
        }
        return { kind: 'startup', socket, reader, parameters: packet.parameters, protocolVersion: packet.protocolVersion };
    }
  }
}

/** Asks for the password in clear (the connection is TLS, or loopback) and returns it. */
export async function readPassword(socket: Duplex, reader: PgMessageReader): Promise<string> {
  socket.write(encodeAuthentication({ name: 'AuthenticationCleartextPassword' }));
  const frame = await nextFrame(socket, reader);
  if (frame.kind !== 'typed' || frame.type !== 'p') throw new HandshakeError('expected a password message');
  return decodePasswordMessage(frame.body).password;
}
