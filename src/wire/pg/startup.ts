import { BodyReader, MessageWriter } from './bytes.js';
import { PgProtocolError } from './errors.js';
import { CANCEL_REQUEST_CODE, GSSENC_REQUEST_CODE, SSL_REQUEST_CODE } from './framing.js';

/** Protocol 3.0 as the Int32 a StartupMessage begins with (major << 16 | minor). */
export const PROTOCOL_VERSION_3_0 = 3 << 16;

export interface StartupMessage {
  readonly name: 'StartupMessage';
  /** major << 16 | minor; only major 3 is accepted (the server negotiates minor versions). */
  readonly protocolVersion: number;
  /** user, database, application_name, options, ... in the order the client sent them. */
  readonly parameters: ReadonlyMap<string, string>;
}

export interface SSLRequest {
  readonly name: 'SSLRequest';
}

export interface GSSENCRequest {
  readonly name: 'GSSENCRequest';
}

export interface CancelRequest {
  readonly name: 'CancelRequest';
  readonly processId: number;
  /** 4 bytes in protocol 3.0; protocol 3.2 allows up to 256, so it stays a byte string. */
  readonly secretKey: Buffer;
}

export type StartupPacket = StartupMessage | SSLRequest | GSSENCRequest | CancelRequest;

/** Decodes the body of an untyped startup-phase packet (a `startup` frame's body). */
export function decodeStartupPacket(body: Buffer): StartupPacket {
  const reader = new BodyReader(body, 'startup packet');
  const code = reader.int32();
  switch (code) {
    case SSL_REQUEST_CODE:
      reader.end();
      return { name: 'SSLRequest' };
    case GSSENC_REQUEST_CODE:
      reader.end();
      return { name: 'GSSENCRequest' };
    case CANCEL_REQUEST_CODE: {
      const processId = reader.int32();
      const secretKey = Buffer.from(reader.rest());
      if (secretKey.length < 4 || secretKey.length > 256) throw new PgProtocolError('CancelRequest: invalid secret key length');
      return { name: 'CancelRequest', processId, secretKey };
    }
  }
  if (code >>> 16 !== 3) throw new PgProtocolError(`unsupported frontend protocol ${code >>> 16}.${code & 0xffff}`);
  const parameters = new Map<string, string>();
  // Name/value pairs, then one empty name as terminator.
  for (;;) {
    const key = reader.cstring();
    if (key === '') break;
    if (parameters.has(key)) throw new PgProtocolError(`StartupMessage: duplicate parameter ${key}`);
    parameters.set(key, reader.cstring());
  }
  reader.end();
  return { name: 'StartupMessage', protocolVersion: code, parameters };
}

export function encodeStartupMessage(
  parameters: ReadonlyMap<string, string> | Readonly<Record<string, string>>,
  protocolVersion = PROTOCOL_VERSION_3_0,
): Buffer {
  const writer = new MessageWriter().int32(protocolVersion);
  const entries = parameters instanceof Map ? [...parameters] : Object.entries(parameters);
  for (const [key, value] of entries) {
    if (key === '') throw new PgProtocolError('StartupMessage: empty parameter name');
    writer.cstring(key).cstring(value);
  }
  return writer.int8(0).untyped();
}

export function encodeSSLRequest(): Buffer {
  return new MessageWriter().int32(SSL_REQUEST_CODE).untyped();
}

export function encodeGSSENCRequest(): Buffer {
  return new MessageWriter().int32(GSSENC_REQUEST_CODE).untyped();
}

export function encodeCancelRequest(processId: number, secretKey: Uint8Array): Buffer {
  return new MessageWriter().int32(CANCEL_REQUEST_CODE).int32(processId).bytes(secretKey).untyped();
}

export function encodeStartupPacket(packet: StartupPacket): Buffer {
  switch (packet.name) {
    case 'StartupMessage':
      return encodeStartupMessage(packet.parameters, packet.protocolVersion);
    case 'SSLRequest':
      return encodeSSLRequest();
    case 'GSSENCRequest':
      return encodeGSSENCRequest();
    case 'CancelRequest':
      return encodeCancelRequest(packet.processId, packet.secretKey);
  }
}
