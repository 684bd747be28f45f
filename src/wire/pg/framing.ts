import { PgProtocolError } from './errors.js';

/** Largest message either direction is allowed to declare unless the caller chooses otherwise. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** PostgreSQL's own limit for startup-phase packets (MAX_STARTUP_PACKET_LENGTH). */
export const MAX_STARTUP_PACKET_BYTES = 10_000;

export const SSL_REQUEST_CODE = 80877103;
export const GSSENC_REQUEST_CODE = 80877104;
export const CANCEL_REQUEST_CODE = 80877102;

/**
 * One protocol unit cut out of the byte stream. `raw` is the whole unit as it was on the wire
 * (header included) so a proxy can relay or record it without re-encoding.
 */
export type PgFrame =
  /** An untyped startup-phase packet; `body` starts with the Int32 protocol version or request code. */
  | { readonly kind: 'startup'; readonly body: Buffer; readonly raw: Buffer }
  /** A typed message: one type byte, Int32 length, body. */
  | { readonly kind: 'typed'; readonly type: string; readonly body: Buffer; readonly raw: Buffer }
  /** The server's one-byte answer to SSLRequest/GSSENCRequest: 'S' or 'G' (go ahead), 'N' (no). */
  | { readonly kind: 'negotiation'; readonly answer: 'S' | 'N' | 'G'; readonly raw: Buffer };

export interface PgMessageReaderOptions {
  /** Who writes the stream: a client starts with untyped startup packets, a server never does. */
  readonly from: 'client' | 'server';
  /** Largest declared message length accepted (the length field counts itself). */
  readonly maxMessageBytes?: number;
}

type Phase = 'startup' | 'typed' | 'negotiation' | 'cancelled';

/**
 * Splits a byte stream into PostgreSQL protocol units. Push chunks as they arrive, then call
 * `next()` until it returns undefined. A unit's length is checked as soon as its header is
 * complete, so a hostile peer cannot make the reader buffer more than one maximal message plus
 * the chunk being pushed; the caller bounds that by reading the socket only while it pulls frames.
 */
export class PgMessageReader {
  private readonly maxMessageBytes: number;
  /** Pushed chunks not fully consumed start at `firstChunk`; the array is compacted now and then. */
  private chunks: Buffer[] = [];
  private firstChunk = 0;
  private firstChunkOffset = 0;
  private buffered = 0;
  private phase: Phase;

  constructor(options: PgMessageReaderOptions) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (!Number.isInteger(this.maxMessageBytes) || this.maxMessageBytes < 5) {
      throw new RangeError('maxMessageBytes must be an integer of at least 5');
    }
    this.phase = options.from === 'client' ? 'startup' : 'typed';
  }

  /**
   * Bytes received but not yet returned as frames. After an SSLRequest or GSSENCRequest this must
   * be 0 before the TLS/GSS handshake starts: bytes sent ahead of the server's answer were not
   * protected by it and must be refused (CVE-2021-23214).
   */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Server side only: the next unit is the one-byte answer to the SSLRequest/GSSENCRequest just sent. */
  expectNegotiationAnswer(): void {
    this.phase = 'negotiation';
  }

  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    if (this.phase === 'cancelled') throw new PgProtocolError('unexpected data after CancelRequest');
    this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.buffered += chunk.byteLength;
  }

  /** The next complete unit, or undefined until more bytes are pushed. Throws PgProtocolError. */
  next(): PgFrame | undefined {
    switch (this.phase) {
      case 'cancelled':
        if (this.buffered > 0) throw new PgProtocolError('unexpected data after CancelRequest');
        return undefined;
      case 'negotiation':
        return this.nextNegotiationAnswer();
      case 'startup':
        return this.nextStartupPacket();
      case 'typed':
        return this.nextTypedMessage();
    }
  }

  /** Every complete unit currently buffered. */
  drain(): PgFrame[] {
    const frames: PgFrame[] = [];
    for (let frame = this.next(); frame; frame = this.next()) frames.push(frame);
    return frames;
  }

  private nextNegotiationAnswer(): PgFrame | undefined {
    if (this.buffered < 1) return undefined;
    const answer = String.fromCharCode(this.peek(1)[0]!);
    if (answer === 'S' || answer === 'N' || answer === 'G') {
      this.phase = 'typed';
      return { kind: 'negotiation', answer, raw: this.take(1) };
    }
    // Servers that do not know the request answer with an ordinary ErrorResponse instead.
    this.phase = 'typed';
    return this.nextTypedMessage();
  }

  private nextStartupPacket(): PgFrame | undefined {
    if (this.buffered < 8) return undefined;
    const header = this.peek(8);
    const length = header.readInt32BE(0);
    if (length < 8 || length > Math.min(MAX_STARTUP_PACKET_BYTES, this.maxMessageBytes)) {
      throw new PgProtocolError(`invalid startup packet length ${length}`);
    }
    if (this.buffered < length) return undefined;
    const code = header.readInt32BE(4);
    // SSL/GSS negotiation is followed by another startup packet; a cancel ends the connection.
    if (code === CANCEL_REQUEST_CODE) this.phase = 'cancelled';
    else if (code !== SSL_REQUEST_CODE && code !== GSSENC_REQUEST_CODE) this.phase = 'typed';
    const raw = this.take(length);
    return { kind: 'startup', body: raw.subarray(4), raw };
  }

  private nextTypedMessage(): PgFrame | undefined {
    if (this.buffered < 5) return undefined;
    const header = this.peek(5);
    const length = header.readInt32BE(1);
    if (length < 4) throw new PgProtocolError(`invalid message length ${length}`);
    if (length > this.maxMessageBytes) {
      throw new PgProtocolError(`message length ${length} exceeds the limit of ${this.maxMessageBytes} bytes`);
    }
    if (this.buffered < length + 1) return undefined;
    const raw = this.take(length + 1);
    return { kind: 'typed', type: String.fromCharCode(raw[0]!), body: raw.subarray(5), raw };
  }

  /** The first `count` buffered bytes without consuming them (copied only when they span chunks). */
  private peek(count: number): Buffer {
    const first = this.chunks[this.firstChunk]!;
    if (first.length - this.firstChunkOffset >= count) {
      return first.subarray(this.firstChunkOffset, this.firstChunkOffset + count);
    }
    return this.copyOut(count, false);
  }

  /** Consumes `count` bytes: a view when they lie in one chunk, otherwise one copy. */
  private take(count: number): Buffer {
    const first = this.chunks[this.firstChunk]!;
    if (first.length - this.firstChunkOffset >= count) {
      const view = first.subarray(this.firstChunkOffset, this.firstChunkOffset + count);
      this.consume(count);
      return view;
    }
    return this.copyOut(count, true);
  }

  private copyOut(count: number, consume: boolean): Buffer {
    const out = Buffer.allocUnsafe(count);
    let written = 0;
    let offset = this.firstChunkOffset;
    for (let index = this.firstChunk; written < count; index++) {
      const chunk = this.chunks[index]!;
      const piece = Math.min(chunk.length - offset, count - written);
      chunk.copy(out, written, offset, offset + piece);
      written += piece;
      offset = 0;
    }
    if (consume) this.consume(count);
    return out;
  }

  private consume(count: number): void {
    this.buffered -= count;
    while (count > 0) {
      const first = this.chunks[this.firstChunk]!;
      const available = first.length - this.firstChunkOffset;
      if (count < available) {
        this.firstChunkOffset += count;
        break;
      }
      count -= available;
      this.firstChunk++;
      this.firstChunkOffset = 0;
    }
    // Dropping consumed chunks one by one (shift) would be quadratic for a message that
    // arrives in many small pieces; drop them in bulk instead.
    if (this.firstChunk === this.chunks.length) {
      this.chunks = [];
      this.firstChunk = 0;
    } else if (this.firstChunk >= 64 && this.firstChunk * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.firstChunk);
      this.firstChunk = 0;
    }
  }
}

/**
 * Frames from an async byte source (a net.Socket, a TLS socket, a gRPC payload iterator).
 * Pulling one frame at a time keeps the source paused while the consumer works. The source
 * ending in the middle of a unit is a protocol error.
 */
export async function* readPgFrames(source: AsyncIterable<Uint8Array>, reader: PgMessageReader): AsyncGenerator<PgFrame> {
  for (let frame = reader.next(); frame; frame = reader.next()) yield frame;
  for await (const chunk of source) {
    reader.push(chunk);
    for (let frame = reader.next(); frame; frame = reader.next()) yield frame;
  }
  if (reader.bufferedBytes > 0) throw new PgProtocolError('connection closed in the middle of a message');
}
