import { PgProtocolError } from './errors.js';

/**
 * Cursor over one message body. Every read checks bounds, so a malformed body ends in a
 * PgProtocolError rather than a RangeError or silently wrong data.
 */
export class BodyReader {
  private offset = 0;

  constructor(
    private readonly body: Buffer,
    private readonly what: string,
  ) {}

  get remaining(): number {
    return this.body.length - this.offset;
  }

  private need(bytes: number): void {
    if (this.remaining < bytes) throw new PgProtocolError(`${this.what}: message ends too early`);
  }

  int8(): number {
    this.need(1);
    return this.body.readUInt8(this.offset++);
  }

  int16(): number {
    this.need(2);
    const value = this.body.readInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  uint16(): number {
    this.need(2);
    const value = this.body.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  int32(): number {
    this.need(4);
    const value = this.body.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  uint32(): number {
    this.need(4);
    const value = this.body.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  bytes(length: number): Buffer {
    this.need(length);
    const value = this.body.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  rest(): Buffer {
    return this.bytes(this.remaining);
  }

  /** A NUL-terminated string, decoded as UTF-8 (the proxy assumes client_encoding UTF8). */
  cstring(): string {
    return this.cstringBytes().toString('utf8');
  }

  cstringBytes(): Buffer {
    const end = this.body.indexOf(0, this.offset);
    if (end < 0) throw new PgProtocolError(`${this.what}: string is not NUL-terminated`);
    const value = this.body.subarray(this.offset, end);
    this.offset = end + 1;
    return value;
  }

  /** Count prefix of an array (Int16): negative counts are invalid. */
  count16(field: string): number {
    const count = this.int16();
    if (count < 0) throw new PgProtocolError(`${this.what}: negative ${field} count`);
    return count;
  }

  /** Int32 length then bytes; -1 is SQL NULL. */
  nullableBytes(): Buffer | null {
    const length = this.int32();
    if (length === -1) return null;
    if (length < 0) throw new PgProtocolError(`${this.what}: invalid value length ${length}`);
    return this.bytes(length);
  }

  /** Decoders call this last: trailing bytes mean the message was not what it claims to be. */
  end(): void {
    if (this.remaining !== 0) throw new PgProtocolError(`${this.what}: ${this.remaining} unexpected trailing bytes`);
  }
}

/** Builds one message: collects parts, then writes the header with the final length. */
export class MessageWriter {
  private readonly parts: Buffer[] = [];
  private length = 0;

  private push(part: Buffer): this {
    this.parts.push(part);
    this.length += part.length;
    return this;
  }

  int8(value: number): this {
    const part = Buffer.allocUnsafe(1);
    part.writeUInt8(value);
    return this.push(part);
  }

  int16(value: number): this {
    const part = Buffer.allocUnsafe(2);
    part.writeInt16BE(value);
    return this.push(part);
  }

  uint16(value: number): this {
    const part = Buffer.allocUnsafe(2);
    part.writeUInt16BE(value);
    return this.push(part);
  }

  int32(value: number): this {
    const part = Buffer.allocUnsafe(4);
    part.writeInt32BE(value);
    return this.push(part);
  }

  uint32(value: number): this {
    const part = Buffer.allocUnsafe(4);
    part.writeUInt32BE(value);
    return this.push(part);
  }

  bytes(value: Uint8Array): this {
    return this.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  }

  /** A NUL-terminated string. An embedded NUL would cut the string short on the other side. */
  cstring(value: string | Uint8Array): this {
    const encoded = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
    if (encoded.includes(0)) throw new PgProtocolError('a protocol string cannot contain a NUL byte');
    this.push(encoded);
    return this.int8(0);
  }

  nullableBytes(value: Uint8Array | null): this {
    if (value === null) return this.int32(-1);
    return this.int32(value.byteLength).bytes(value);
  }

  /** A typed message: type byte, Int32 length (itself included), body. */
  typed(type: string): Buffer {
    const header = Buffer.allocUnsafe(5);
    header.write(type, 0, 1, 'latin1');
    header.writeInt32BE(this.length + 4, 1);
    return Buffer.concat([header, ...this.parts], this.length + 5);
  }

  /** An untyped startup-phase packet: Int32 length (itself included), body. */
  untyped(): Buffer {
    const header = Buffer.allocUnsafe(4);
    header.writeInt32BE(this.length + 4, 0);
    return Buffer.concat([header, ...this.parts], this.length + 4);
  }
}
