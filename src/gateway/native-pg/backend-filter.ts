import { randomBytes } from 'node:crypto';
import type { MaskingStream } from '../../masking/index.js';
import {
  PgMessageReader,
  decodeBackendMessage,
  encodeDataRow,
  encodeErrorResponse,
  encodeOpaque,
  type PgNoticeInput,
  type TransactionStatus,
} from '../../wire/pg/index.js';

/** Blocked queries waiting for the server's error about their stand-in; older ones are dropped. */
const MAX_PENDING_BLOCKS = 256;

export interface BackendFilterOptions {
  /** Masks row values and COPY output; none when the connection has no masking. */
  masker: MaskingStream | undefined;
  /** The server's cancel key, once it sends it. */
  onBackendKey(processId: number, secretKey: Buffer): void;
}

/**
 * What the server sends goes through here on its way to the client, one whole message at a
 * time: field values of DataRow (and COPY TO STDOUT data) are masked per column, and the
 * server's error about a blocked query's stand-in becomes the guard rail's error (see
 * `blockQuery`). Other messages pass as they came.
 */
export class BackendFilter {
  private readonly reader = new PgMessageReader({ from: 'server' });
  private columns: string[] = [];
  private copyingOut = false;
  private readonly blocks = new Map<string, PgNoticeInput>();
  /** The last ReadyForQuery's status: I idle, T in a transaction, E in a failed one. */
  transactionStatus: TransactionStatus = 'I';
  /** The server's last message was a FATAL error: it is closing the connection and said why. */
  endedWithFatal = false;

  constructor(private readonly options: BackendFilterOptions) {}

  /**
   * The stand-in the server runs instead of a blocked query: a statement that fails to parse, so
   * the server itself answers with an error at the right place in the reply stream and keeps
   * the protocol's state (failed transaction, skip to Sync) exactly as for any failed query.
   * Its error is replaced by `error` on the way back.
   */
  blockQuery(error: PgNoticeInput): string {
    const token = `gatehouse_guardrail_${randomBytes(8).toString('hex')}`;
    if (this.blocks.size >= MAX_PENDING_BLOCKS) this.blocks.delete(this.blocks.keys().next().value!);
    this.blocks.set(token, error);
    return token;
  }

  /** The bytes for the client: every complete message of `chunk` and of earlier partial ones. */
  filter(chunk: Buffer): Buffer {
    const startsAtMessage = this.reader.bufferedBytes === 0;
    this.reader.push(chunk);
    const out: Buffer[] = [];
    let changed = false;
    for (let frame = this.reader.next(); frame; frame = this.reader.next()) {
      if (frame.kind !== 'typed') continue;
      const passed = this.message(frame.type, frame.body, frame.raw);
      if (passed !== frame.raw) changed = true;
      out.push(passed);
    }
    // The common case, whole messages passed as they came: the chunk itself, without a copy.
    if (!changed && startsAtMessage && this.reader.bufferedBytes === 0) return chunk;
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  private message(type: string, body: Buffer, raw: Buffer): Buffer {
    const masker = this.options.masker;
    switch (type) {
      case 'D':
        return masker ? this.maskRow(masker, body, raw) : raw;
      case 'T': {
        if (!masker) return raw;
        const message = decodeBackendMessage({ type, body });
        if (message.name === 'RowDescription') this.columns = message.fields.map((field) => field.name);
        return raw;
      }
      case 'H':
        this.copyingOut = body[0] === 0; // text COPY: masked like any output; binary passes
        return raw;
      case 'd':
        if (!this.copyingOut || !masker) return raw;
        return encodeOpaque('d', masker.maskValue(body));
      case 'c':
        this.copyingOut = false;
        return raw;
      case 'Z':
        this.transactionStatus = String.fromCharCode(body[0]!) as TransactionStatus;
        this.copyingOut = false;
        return raw;
      case 'K': {
        const message = decodeBackendMessage({ type, body });
        if (message.name === 'BackendKeyData') this.options.onBackendKey(message.processId, message.secretKey);
        return raw;
      }
      case 'E':
        return this.error(type, body, raw);
      default:
        return raw;
    }
  }

  private maskRow(masker: MaskingStream, body: Buffer, raw: Buffer): Buffer {
    const message = decodeBackendMessage({ type: 'D', body });
    if (message.name !== 'DataRow') return raw;
    // A row of another shape than the last description (a statement described earlier) is
    // still masked, only without column labels.
    const columns = message.values.length === this.columns.length ? this.columns : [];
    let changed = false;
    const values = message.values.map((value, index) => {
      if (value === null || value.length === 0) return value;
      const masked = masker.maskValue(value, columns[index]);
      if (!masked.equals(value)) changed = true;
      return masked;
    });
    return changed ? encodeDataRow(values) : raw;
  }

  private error(type: string, body: Buffer, raw: Buffer): Buffer {
    const message = decodeBackendMessage({ type, body });
    if (message.name !== 'ErrorResponse') return raw;
    const severity = message.fields.severityNonLocalized ?? message.fields.severity;
    this.endedWithFatal = severity === 'FATAL' || severity === 'PANIC';
    if (this.blocks.size === 0) return raw;
    const text = message.fields.message ?? '';
    for (const [token, replacement] of this.blocks) {
      if (!text.includes(token)) continue;
      this.blocks.delete(token);
      return encodeErrorResponse(replacement);
    }
    return raw;
  }
}
