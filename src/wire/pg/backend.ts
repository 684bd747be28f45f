import { BodyReader, MessageWriter } from './bytes.js';
import { PgProtocolError } from './errors.js';
import { encodeOpaque, type TypedFrame } from './frontend.js';

/** Codes of the Authentication ('R') message. */
export const AUTH_OK = 0;
export const AUTH_CLEARTEXT_PASSWORD = 3;
export const AUTH_MD5_PASSWORD = 5;
export const AUTH_SASL = 10;
export const AUTH_SASL_CONTINUE = 11;
export const AUTH_SASL_FINAL = 12;

export interface AuthenticationOk {
  readonly name: 'AuthenticationOk';
}
export interface AuthenticationCleartextPassword {
  readonly name: 'AuthenticationCleartextPassword';
}
export interface AuthenticationMD5Password {
  readonly name: 'AuthenticationMD5Password';
  readonly salt: Buffer;
}
export interface AuthenticationSASL {
  readonly name: 'AuthenticationSASL';
  /** In the server's order of preference, e.g. ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']. */
  readonly mechanisms: readonly string[];
}
export interface AuthenticationSASLContinue {
  readonly name: 'AuthenticationSASLContinue';
  readonly data: Buffer;
}
export interface AuthenticationSASLFinal {
  readonly name: 'AuthenticationSASLFinal';
  readonly data: Buffer;
}
/** Kerberos, GSSAPI, SSPI: methods the gateway does not implement. */
export interface AuthenticationOther {
  readonly name: 'AuthenticationOther';
  readonly code: number;
  readonly data: Buffer;
}

export type AuthenticationRequest =
  | AuthenticationOk
  | AuthenticationCleartextPassword
  | AuthenticationMD5Password
  | AuthenticationSASL
  | AuthenticationSASLContinue
  | AuthenticationSASLFinal
  | AuthenticationOther;

/** Fields of ErrorResponse / NoticeResponse by their meaning; values as the server sent them. */
export interface PgNoticeFields {
  readonly severity?: string;
  readonly severityNonLocalized?: string;
  readonly code?: string;
  readonly message?: string;
  readonly detail?: string;
  readonly hint?: string;
  readonly position?: string;
  readonly internalPosition?: string;
  readonly internalQuery?: string;
  readonly where?: string;
  readonly schema?: string;
  readonly table?: string;
  readonly column?: string;
  readonly dataType?: string;
  readonly constraint?: string;
  readonly file?: string;
  readonly line?: string;
  readonly routine?: string;
  /** Field types not named above, keyed by their one-byte type; kept so relays lose nothing. */
  readonly other?: Readonly<Record<string, string>>;
}

/** What an ErrorResponse needs at least: severity, SQLSTATE and message. */
export type PgNoticeInput = PgNoticeFields & { readonly severity: string; readonly code: string; readonly message: string };

type NamedNoticeField = Exclude<keyof PgNoticeFields, 'other'>;

/** Wire order of the encoder: S, V, C, M first as the server does, then the rest. */
const NOTICE_FIELD_CODES: readonly (readonly [string, NamedNoticeField])[] = [
  ['S', 'severity'],
  ['V', 'severityNonLocalized'],
  ['C', 'code'],
  ['M', 'message'],
  ['D', 'detail'],
  ['H', 'hint'],
  ['P', 'position'],
  ['p', 'internalPosition'],
  ['q', 'internalQuery'],
  ['W', 'where'],
  ['s', 'schema'],
  ['t', 'table'],
  ['c', 'column'],
  ['d', 'dataType'],
  ['n', 'constraint'],
  ['F', 'file'],
  ['L', 'line'],
  ['R', 'routine'],
];
const NOTICE_FIELD_BY_CODE = new Map<string, NamedNoticeField>(NOTICE_FIELD_CODES);

export interface ErrorResponse {
  readonly name: 'ErrorResponse';
  readonly fields: PgNoticeFields;
}
export interface NoticeResponse {
  readonly name: 'NoticeResponse';
  readonly fields: PgNoticeFields;
}
export interface ParameterStatus {
  readonly name: 'ParameterStatus';
  readonly parameter: string;
  readonly value: string;
}
export interface BackendKeyData {
  readonly name: 'BackendKeyData';
  readonly processId: number;
  /** 4 bytes in protocol 3.0 (longer in 3.2); CancelRequest echoes it. */
  readonly secretKey: Buffer;
}
export type TransactionStatus = 'I' | 'T' | 'E';
export interface ReadyForQuery {
  readonly name: 'ReadyForQuery';
  /** I idle, T in a transaction block, E in a failed transaction block. */
  readonly status: TransactionStatus;
}
export interface RowField {
  readonly name: string;
  /** 0 when the column is not a plain table column. */
  readonly tableOid: number;
  readonly columnNumber: number;
  readonly typeOid: number;
  /** Negative for variable-width types. */
  readonly typeSize: number;
  readonly typeModifier: number;
  /** 0 text, 1 binary. */
  readonly format: number;
}
export interface RowDescription {
  readonly name: 'RowDescription';
  readonly fields: readonly RowField[];
}
export interface DataRow {
  readonly name: 'DataRow';
  /** One per column; null is SQL NULL. */
  readonly values: readonly (Buffer | null)[];
}
export interface CommandComplete {
  readonly name: 'CommandComplete';
  /** e.g. "SELECT 1", "INSERT 0 3". */
  readonly tag: string;
}
export interface OpaqueBackendMessage {
  readonly name: 'Opaque';
  readonly type: string;
  readonly body: Buffer;
}

export type BackendMessage =
  | AuthenticationRequest
  | ErrorResponse
  | NoticeResponse
  | ParameterStatus
  | BackendKeyData
  | ReadyForQuery
  | RowDescription
  | DataRow
  | CommandComplete
  | OpaqueBackendMessage;

/** Decodes a typed message sent by a server. */
export function decodeBackendMessage(frame: TypedFrame): BackendMessage {
  const { type, body } = frame;
  switch (type) {
    case 'R':
      return decodeAuthentication(body);
    case 'E':
      return { name: 'ErrorResponse', fields: decodeNoticeFields(body, 'ErrorResponse') };
    case 'N':
      return { name: 'NoticeResponse', fields: decodeNoticeFields(body, 'NoticeResponse') };
    case 'S': {
      const reader = new BodyReader(body, 'ParameterStatus');
      const parameter = reader.cstring();
      const value = reader.cstring();
      reader.end();
      return { name: 'ParameterStatus', parameter, value };
    }
    case 'K': {
      const reader = new BodyReader(body, 'BackendKeyData');
      const processId = reader.int32();
      const secretKey = Buffer.from(reader.rest());
      if (secretKey.length < 4 || secretKey.length > 256) throw new PgProtocolError('BackendKeyData: invalid secret key length');
      return { name: 'BackendKeyData', processId, secretKey };
    }
    case 'Z': {
      const reader = new BodyReader(body, 'ReadyForQuery');
      const status = String.fromCharCode(reader.int8());
      reader.end();
      if (status !== 'I' && status !== 'T' && status !== 'E') throw new PgProtocolError(`ReadyForQuery: unknown status ${status}`);
      return { name: 'ReadyForQuery', status };
    }
    case 'T': {
      const reader = new BodyReader(body, 'RowDescription');
      const fields: RowField[] = [];
      for (let count = reader.count16('field'); count > 0; count--) {
        fields.push({
          name: reader.cstring(),
          tableOid: reader.uint32(),
          columnNumber: reader.int16(),
          typeOid: reader.uint32(),
          typeSize: reader.int16(),
          typeModifier: reader.int32(),
          format: reader.int16(),
        });
      }
      reader.end();
      return { name: 'RowDescription', fields };
    }
    case 'D': {
      const reader = new BodyReader(body, 'DataRow');
      const values: (Buffer | null)[] = [];
      for (let count = reader.count16('column'); count > 0; count--) values.push(reader.nullableBytes());
      reader.end();
      return { name: 'DataRow', values };
    }
    case 'C': {
      const reader = new BodyReader(body, 'CommandComplete');
      const tag = reader.cstring();
      reader.end();
      return { name: 'CommandComplete', tag };
    }
    default:
      return { name: 'Opaque', type, body };
  }
}

function decodeAuthentication(body: Buffer): AuthenticationRequest {
  const reader = new BodyReader(body, 'Authentication');
  const code = reader.int32();
  switch (code) {
    case AUTH_OK:
      reader.end();
      return { name: 'AuthenticationOk' };
    case AUTH_CLEARTEXT_PASSWORD:
      reader.end();
      return { name: 'AuthenticationCleartextPassword' };
    case AUTH_MD5_PASSWORD: {
      const salt = Buffer.from(reader.bytes(4));
      reader.end();
      return { name: 'AuthenticationMD5Password', salt };
    }
    case AUTH_SASL: {
      const mechanisms: string[] = [];
      for (let mechanism = reader.cstring(); mechanism !== ''; mechanism = reader.cstring()) mechanisms.push(mechanism);
      reader.end();
      return { name: 'AuthenticationSASL', mechanisms };
    }
    case AUTH_SASL_CONTINUE:
      return { name: 'AuthenticationSASLContinue', data: reader.rest() };
    case AUTH_SASL_FINAL:
      return { name: 'AuthenticationSASLFinal', data: reader.rest() };
    default:
      return { name: 'AuthenticationOther', code, data: reader.rest() };
  }
}

function decodeNoticeFields(body: Buffer, what: string): PgNoticeFields {
  const reader = new BodyReader(body, what);
  const fields: Record<string, string> = {};
  // Keys are single characters, so a plain object cannot be polluted through "__proto__".
  const other: Record<string, string> = {};
  for (let code = reader.int8(); code !== 0; code = reader.int8()) {
    const letter = String.fromCharCode(code);
    const value = reader.cstring();
    const named = NOTICE_FIELD_BY_CODE.get(letter);
    if (named) fields[named] = value;
    else other[letter] = value;
  }
  reader.end();
  return Object.keys(other).length > 0 ? { ...fields, other } : fields;
}

function encodeNotice(type: 'E' | 'N', fields: PgNoticeFields): Buffer {
  const writer = new MessageWriter();
  for (const [letter, named] of NOTICE_FIELD_CODES) {
    const value = fields[named];
    if (value !== undefined) writer.int8(letter.charCodeAt(0)).cstring(value);
  }
  for (const [letter, value] of Object.entries(fields.other ?? {})) {
    if (letter.length !== 1 || letter === '\0') throw new PgProtocolError(`invalid notice field type ${JSON.stringify(letter)}`);
    writer.int8(letter.charCodeAt(0)).cstring(value);
  }
  return writer.int8(0).typed(type);
}

export function encodeErrorResponse(fields: PgNoticeInput): Buffer {
  return encodeNotice('E', fields);
}

export function encodeNoticeResponse(fields: PgNoticeInput): Buffer {
  return encodeNotice('N', fields);
}

export function encodeAuthentication(request: AuthenticationRequest): Buffer {
  const writer = new MessageWriter();
  switch (request.name) {
    case 'AuthenticationOk':
      return writer.int32(AUTH_OK).typed('R');
    case 'AuthenticationCleartextPassword':
      return writer.int32(AUTH_CLEARTEXT_PASSWORD).typed('R');
    case 'AuthenticationMD5Password':
      if (request.salt.length !== 4) throw new PgProtocolError('AuthenticationMD5Password: the salt is 4 bytes');
      return writer.int32(AUTH_MD5_PASSWORD).bytes(request.salt).typed('R');
    case 'AuthenticationSASL':
      writer.int32(AUTH_SASL);
      for (const mechanism of request.mechanisms) writer.cstring(mechanism);
      return writer.int8(0).typed('R');
    case 'AuthenticationSASLContinue':
      return writer.int32(AUTH_SASL_CONTINUE).bytes(request.data).typed('R');
    case 'AuthenticationSASLFinal':
      return writer.int32(AUTH_SASL_FINAL).bytes(request.data).typed('R');
    case 'AuthenticationOther':
      return writer.int32(request.code).bytes(request.data).typed('R');
  }
}

export function encodeParameterStatus(parameter: string, value: string): Buffer {
  return new MessageWriter().cstring(parameter).cstring(value).typed('S');
}

export function encodeBackendKeyData(processId: number, secretKey: Uint8Array): Buffer {
  return new MessageWriter().int32(processId).bytes(secretKey).typed('K');
}

/** NegotiateProtocolVersion: the newest 3.x minor version spoken, and the `_pq_.` options not supported. */
export function encodeNegotiateProtocolVersion(newestMinorVersion: number, unsupportedOptions: readonly string[]): Buffer {
  const writer = new MessageWriter().int32(newestMinorVersion).int32(unsupportedOptions.length);
  for (const option of unsupportedOptions) writer.cstring(option);
  return writer.typed('v');
}

export function encodeReadyForQuery(status: TransactionStatus): Buffer {
  return new MessageWriter().int8(status.charCodeAt(0)).typed('Z');
}

export function encodeRowDescription(fields: readonly RowField[]): Buffer {
  const writer = new MessageWriter().int16(fields.length);
  for (const field of fields) {
    writer
      .cstring(field.name)
      .uint32(field.tableOid)
      .int16(field.columnNumber)
      .uint32(field.typeOid)
      .int16(field.typeSize)
      .int32(field.typeModifier)
      .int16(field.format);
  }
  return writer.typed('T');
}

/** Strings are sent as UTF-8 text; null is SQL NULL. */
export function encodeDataRow(values: readonly (Uint8Array | string | null)[]): Buffer {
  const writer = new MessageWriter().int16(values.length);
  for (const value of values) writer.nullableBytes(typeof value === 'string' ? Buffer.from(value, 'utf8') : value);
  return writer.typed('D');
}

export function encodeCommandComplete(tag: string): Buffer {
  return new MessageWriter().cstring(tag).typed('C');
}

export function encodeBackendMessage(message: BackendMessage): Buffer {
  switch (message.name) {
    case 'ErrorResponse':
      return encodeNotice('E', message.fields);
    case 'NoticeResponse':
      return encodeNotice('N', message.fields);
    case 'ParameterStatus':
      return encodeParameterStatus(message.parameter, message.value);
    case 'BackendKeyData':
      return encodeBackendKeyData(message.processId, message.secretKey);
    case 'ReadyForQuery':
      return encodeReadyForQuery(message.status);
    case 'RowDescription':
      return encodeRowDescription(message.fields);
    case 'DataRow':
      return encodeDataRow(message.values);
    case 'CommandComplete':
      return encodeCommandComplete(message.tag);
    case 'Opaque':
      return encodeOpaque(message.type, message.body);
    default:
      return encodeAuthentication(message);
  }
}
