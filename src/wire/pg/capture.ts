import { PgProtocolError } from './errors.js';
import { TEXT_FORMAT, decodeFrontendMessage, type FrontendMessage } from './frontend.js';

/** A bound parameter as recorded: text as a string, binary (or text that is not UTF-8) as base64, NULL as null. */
export type CapturedParameter = string | { readonly base64: string } | null;

export type CapturedStatement =
  | { readonly kind: 'query'; readonly sql: string }
  | { readonly kind: 'parse'; readonly statementName: string; readonly sql: string }
  | {
      readonly kind: 'bind';
      readonly portal: string;
      readonly statement: string;
      readonly parameters: readonly CapturedParameter[];
    };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * What the `raw-queries` rendering shows of one client message: the SQL of Query and Parse, the
 * parameter values of Bind; null for every other message. `message` is one complete typed
 * message as it was on the wire (header included), e.g. a recorded `i` event. Throws
 * PgProtocolError when the bytes are not one well-formed message.
 */
export function captureRawQuery(message: Uint8Array): CapturedStatement | null {
  const bytes = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  // Startup packets begin with a length whose first byte is 0 in practice; they carry no SQL.
  if (bytes.length < 5 || !'QPB'.includes(String.fromCharCode(bytes[0]!))) return null;
  const length = bytes.readInt32BE(1);
  if (length + 1 !== bytes.length) throw new PgProtocolError('captured message length does not match its header');
  return captureFrontendMessage(decodeFrontendMessage({ type: String.fromCharCode(bytes[0]!), body: bytes.subarray(5) }));
}

/** The same from a decoded message. */
export function captureFrontendMessage(message: FrontendMessage): CapturedStatement | null {
  switch (message.name) {
    case 'Query':
      return { kind: 'query', sql: message.sql };
    case 'Parse':
      return { kind: 'parse', statementName: message.statementName, sql: message.query };
    case 'Bind': {
      const formats = message.parameterFormats;
      const parameters = message.parameters.map((value, index): CapturedParameter => {
        if (value === null) return null;
        // No formats: all text; one: it applies to all; otherwise one per parameter.
        const format = formats.length === 0 ? TEXT_FORMAT : formats.length === 1 ? formats[0] : formats[index];
        if (format === TEXT_FORMAT) {
          try {
            return strictUtf8.decode(value);
          } catch {
            // Not UTF-8 (another client_encoding): keep the exact bytes rather than guess.
          }
        }
        return { base64: value.toString('base64') };
      });
      return { kind: 'bind', portal: message.portal, statement: message.statement, parameters };
    }
    default:
      return null;
  }
}
