/**
 * A session's recording: the ordered events `[elapsed seconds, "i"|"o"|"e", bytes]`.
 *
 * Events are encoded into segments (many events each) and a backend stores segments:
 * append-only files in the data dir for the embedded store, batched rows when the store is
 * PostgreSQL (so every gateway reads every recording). Writers buffer up to one segment and
 * make the caller wait while a segment is being stored, which is how a slow store slows the
 * producer instead of growing memory.
 */

export type EventType = 'i' | 'o' | 'e';

export interface SessionEvent {
  elapsed: number;
  type: EventType;
  data: Buffer;
}

export interface SegmentStore {
  /**
   * `database`: segments are rows of the session database, so a session's last segment can be
   * stored by the statement that closes the session. `files`: they are not.
   */
  readonly location: 'database' | 'files';
  /** Bytes of events worth buffering into one segment for this backend. */
  readonly segmentBytes: number;
  /** Stores the next segment of a session; called in order, one call at a time per session. */
  appendSegment(sessionId: string, seq: number, segment: Buffer): Promise<void>;
  /** Yields a session's segments in order. */
  readSegments(sessionId: string): AsyncIterable<Buffer>;
}

const HEADER_BYTES = 8 + 1 + 4;
const TYPE_CODES: Record<EventType, number> = { i: 0x69, o: 0x6f, e: 0x65 };
const TYPES_BY_CODE = new Map<number, EventType>([
  [0x69, 'i'],
  [0x6f, 'o'],
  [0x65, 'e'],
]);

export function encodeEventHeader(event: { elapsed: number; type: EventType; length: number }): Buffer {
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeDoubleLE(event.elapsed, 0);
  header.writeUInt8(TYPE_CODES[event.type], 8);
  header.writeUInt32LE(event.length, 9);
  return header;
}

export function* decodeSegment(segment: Buffer): Generator<SessionEvent> {
  let offset = 0;
  while (offset + HEADER_BYTES <= segment.length) {
    const elapsed = segment.readDoubleLE(offset);
    const type = TYPES_BY_CODE.get(segment.readUInt8(offset + 8));
    const length = segment.readUInt32LE(offset + 9);
    const start = offset + HEADER_BYTES;
    if (!type || start + length > segment.length) throw new Error('corrupt session recording segment');
    yield { elapsed, type, data: segment.subarray(start, start + length) };
    offset = start + length;
  }
  if (offset !== segment.length) throw new Error('corrupt session recording segment');
}

export async function* readEvents(store: SegmentStore, sessionId: string): AsyncGenerator<SessionEvent> {
  for await (const segment of store.readSegments(sessionId)) yield* decodeSegment(segment);
}

/** Size of an event as the JSON triple `[t,"o","<base64>"]` plus its separator: `event_size`. */
export function renderedEventSize(elapsed: number, length: number): number {
  return String(elapsed).length + 4 * Math.ceil(length / 3) + 10;
}

export interface Segment {
  seq: number;
  data: Buffer;
}

export interface EventWriterOptions {
  /** Recording cap: events past it are dropped and the recording is marked truncated. */
  maxBytes: number;
}

/** Buffers a session's events into segments and stores them in order. */
export class EventWriter {
  private parts: Buffer[] = [];
  private partsBytes = 0;
  private seq = 0;
  private pending: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private renderedBytes = 0;
  private closed = false;
  recordedBytes = 0;
  truncated = false;

  constructor(
    private readonly store: SegmentStore,
    private readonly sessionId: string,
    private readonly options: EventWriterOptions,
  ) {}

  /** Bytes of the recording rendered as a JSON array of triples. */
  get eventSize(): number {
    return this.renderedBytes === 0 ? 2 : 1 + this.renderedBytes;
  }

  /**
   * Adds an event; resolves once the writer can take more. A full segment starts being stored
   * at once and the caller waits only for the segment before it: one segment is stored while
   * the next fills, so receiving and storing overlap while memory stays at two segments.
   */
  async append(type: EventType, elapsed: number, data: Buffer): Promise<void> {
    if (data.length === 0 || this.truncated || this.closed) return;
    let payload = data;
    if (this.recordedBytes + data.length > this.options.maxBytes) {
      payload = data.subarray(0, this.options.maxBytes - this.recordedBytes);
      this.truncated = true;
    }
    if (payload.length > 0) {
      this.parts.push(encodeEventHeader({ elapsed, type, length: payload.length }), payload);
      this.partsBytes += HEADER_BYTES + payload.length;
      this.recordedBytes += payload.length;
      this.renderedBytes += renderedEventSize(elapsed, payload.length);
    }
    if (this.partsBytes >= this.store.segmentBytes) {
      const previous = this.pending;
      void this.flush().catch(() => {});
      await previous;
    }
  }

  /** Stores what is buffered; resolves when it and every earlier segment are stored. */
  flush(): Promise<void> {
    const segment = this.takeBuffered();
    if (segment) {
      this.pending = this.pending.then(() =>
        this.failure ? undefined : this.store.appendSegment(this.sessionId, segment.seq, segment.data).catch((error: Error) => {
          this.failure = error;
        }),
      );
    }
    return this.settled();
  }

  /**
   * Ends the recording: waits until every earlier segment is stored and hands back what is
   * still buffered, the last segment, for the caller to store (with the session's close).
   */
  async close(): Promise<Segment | undefined> {
    this.closed = true;
    await this.settled();
    return this.takeBuffered();
  }

  private takeBuffered(): Segment | undefined {
    if (this.partsBytes === 0) return undefined;
    const segment = { seq: this.seq++, data: Buffer.concat(this.parts, this.partsBytes) };
    this.parts = [];
    this.partsBytes = 0;
    return segment;
  }

  private settled(): Promise<void> {
    return this.pending.then(() => {
      if (this.failure) throw this.failure;
    });
  }
}
