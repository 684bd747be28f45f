import { BodyReader, MessageWriter } from './bytes.js';
import { PgProtocolError } from './errors.js';

/** Column and parameter format codes. */
export const TEXT_FORMAT = 0;
export const BINARY_FORMAT = 1;

export interface Query {
  readonly name: 'Query';
  readonly sql: string;
}

export interface Parse {
  readonly name: 'Parse';
  /** '' is the unnamed statement. */
  readonly statementName: string;
  readonly query: string;
  /** Parameter type OIDs; 0 leaves the type to the server. May be shorter than the parameter count. */
  readonly parameterTypes: readonly number[];
}

export interface Bind {
  readonly name: 'Bind';
  readonly portal: string;
  readonly statement: string;
  /** None: all text; one: applies to every parameter; otherwise one per parameter. */
  readonly parameterFormats: readonly number[];
  /** null is SQL NULL. */
  readonly parameters: readonly (Buffer | null)[];
  /** Same rule as parameterFormats, for the result columns. */
  readonly resultFormats: readonly number[];
}

export interface Execute {
  readonly name: 'Execute';
  readonly portal: string;
  /** 0 means no limit. */
  readonly maxRows: number;
}

export interface Sync {
  readonly name: 'Sync';
}

export interface Terminate {
  readonly name: 'Terminate';
}

/**
 * A 'p' message. PasswordMessage, SASLInitialResponse and SASLResponse share the type byte and
 * only the authentication exchange in progress tells them apart, so the generic decoder leaves
 * the body as is; use decodePasswordMessage / decodeSASLInitialResponse / decodeSASLResponse.
 */
export interface AuthenticationResponse {
  readonly name: 'AuthenticationResponse';
  readonly body: Buffer;
}

/** Any other client message (Describe, Close, Flush, CopyData, FunctionCall, ...), relayed untouched. */
export interface OpaqueFrontendMessage {
  readonly name: 'Opaque';
  readonly type: string;
  readonly body: Buffer;
}

export type FrontendMessage = Query | Parse | Bind | Execute | Sync | Terminate | AuthenticationResponse | OpaqueFrontendMessage;

export interface TypedFrame {
  readonly type: string;
  readonly body: Buffer;
}

/** Decodes a typed message sent by a client (after the startup packet). */
export function decodeFrontendMessage(frame: TypedFrame): FrontendMessage {
  const { type, body } = frame;
  switch (type) {
    case 'Q': {
      const reader = new BodyReader(body, 'Query');
      const sql = reader.cstring();
      reader.end();
      return { name: 'Query', sql };
    }
    case 'P': {
      const reader = new BodyReader(body, 'Parse');
      const statementName = reader.cstring();
      const query = reader.cstring();
      const parameterTypes: number[] = [];
      for (let count = reader.count16('parameter type'); count > 0; count--) parameterTypes.push(reader.uint32());
      reader.end();
      return { name: 'Parse', statementName, query, parameterTypes };
    }
    case 'B': {
      const reader = new BodyReader(body, 'Bind');
      const portal = reader.cstring();
      const statement = reader.cstring();
      const parameterFormats: number[] = [];
      for (let count = reader.count16('parameter format'); count > 0; count--) parameterFormats.push(reader.int16());
      const parameters: (Buffer | null)[] = [];
      for (let count = reader.count16('parameter'); count > 0; count--) parameters.push(reader.nullableBytes());
      const resultFormats: number[] = [];
      for (let count = reader.count16('result format'); count > 0; count--) resultFormats.push(reader.int16());
      reader.end();
      return { name: 'Bind', portal, statement, parameterFormats, parameters, resultFormats };
    }
    case 'E': {
      const reader = new BodyReader(body, 'Execute');
      const portal = reader.cstring();
      const maxRows = reader.int32();
      reader.end();
      return { name: 'Execute', portal, maxRows };
    }
    case 'S':
      new BodyReader(body, 'Sync').end();
      return { name: 'Sync' };
    case 'X':
      new BodyReader(body, 'Terminate').end();
      return { name: 'Terminate' };
    case 'p':
      return { name: 'AuthenticationResponse', body };
    default:
      return { name: 'Opaque', type, body };
  }
}

export function encodeQuery(sql: string): Buffer {
  return new MessageWriter().cstring(sql).typed('Q');
}

export function encodeParse(statementName: string, query: string, parameterTypes: readonly number[] = []): Buffer {
  const writer = new MessageWriter().cstring(statementName).cstring(query).int16(parameterTypes.length);
  for (const oid of parameterTypes) writer.uint32(oid);
  return writer.typed('P');
}

export interface BindOptions {
  readonly portal?: string;
  readonly statement?: string;
  readonly parameterFormats?: readonly number[];
  /** Strings are sent as UTF-8 text; null is SQL NULL. */
  readonly parameters?: readonly (Uint8Array | string | null)[];
  readonly resultFormats?: readonly number[];
}

export function encodeBind(options: BindOptions): Buffer {
  const parameters = options.parameters ?? [];
  const parameterFormats = options.parameterFormats ?? [];
  const resultFormats = options.resultFormats ?? [];
  const writer = new MessageWriter().cstring(options.portal ?? '').cstring(options.statement ?? '');
  writer.int16(parameterFormats.length);
  for (const format of parameterFormats) writer.int16(format);
  writer.int16(parameters.length);
  for (const value of parameters) writer.nullableBytes(typeof value === 'string' ? Buffer.from(value, 'utf8') : value);
  writer.int16(resultFormats.length);
  for (const format of resultFormats) writer.int16(format);
  return writer.typed('B');
}

export function encodeExecute(portal = '', maxRows = 0): Buffer {
  return new MessageWriter().cstring(portal).int32(maxRows).typed('E');
}

export function encodeSync(): Buffer {
  return new MessageWriter().typed('S');
}

export function encodeTerminate(): Buffer {
  return new MessageWriter().typed('X');
}

export function encodePasswordMessage(password: string): Buffer {
  return new MessageWriter().cstring(password).typed('p');
}

/** `data` null is sent as length -1 ("no initial response"). */
export function encodeSASLInitialResponse(mechanism: string, data: Uint8Array | null): Buffer {
  return new MessageWriter().cstring(mechanism).nullableBytes(data).typed('p');
}

export function encodeSASLResponse(data: Uint8Array): Buffer {
  return new MessageWriter().bytes(data).typed('p');
}

export function decodePasswordMessage(body: Buffer): { readonly password: string } {
  const reader = new BodyReader(body, 'PasswordMessage');
  const password = reader.cstring();
  reader.end();
  return { password };
}

export function decodeSASLInitialResponse(body: Buffer): { readonly mechanism: string; readonly data: Buffer | null } {
  const reader = new BodyReader(body, 'SASLInitialResponse');
  const mechanism = reader.cstring();
  const data = reader.nullableBytes();
  reader.end();
  return { mechanism, data };
}

export function decodeSASLResponse(body: Buffer): { readonly data: Buffer } {
  return { data: body };
}

export function encodeFrontendMessage(message: FrontendMessage): Buffer {
  switch (message.name) {
    case 'Query':
      return encodeQuery(message.sql);
    case 'Parse':
      return encodeParse(message.statementName, message.query, message.parameterTypes);
    case 'Bind':
      return encodeBind(message);
    case 'Execute':
      return encodeExecute(message.portal, message.maxRows);
    case 'Sync':
      return encodeSync();
    case 'Terminate':
      return encodeTerminate();
    case 'AuthenticationResponse':
      return new MessageWriter().bytes(message.body).typed('p');
    case 'Opaque':
      return encodeOpaque(message.type, message.body);
  }
}

/** Any typed message from its type byte and body. */
export function encodeOpaque(type: string, body: Uint8Array): Buffer {
  if (type.length !== 1 || type.charCodeAt(0) > 0x7f) throw new PgProtocolError(`invalid message type ${JSON.stringify(type)}`);
  return new MessageWriter().bytes(body).typed(type);
}
