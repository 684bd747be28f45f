import { StringDecoder } from 'node:string_decoder';
import { captureRawQuery } from '../../wire/pg/index.js';
import type { EventType, SessionEvent } from '../events/event-log.js';
import type { ExecResult } from './session-types.js';

/**
 * Renderings of a recording, produced as it is read so a recording of any size is never held
 * whole in memory: the event stream inside the session JSON, and the download formats.
 */

export type EventStreamFormat = 'raw' | 'utf8' | 'base64';

/**
 * The exec answer as JSON text, `output` last and escaped piece by piece: output full of
 * characters JSON escapes (NUL becomes six bytes) never becomes one huge string.
 */
export function* renderExecResult(result: ExecResult): Generator<string> {
  const { output, ...fields } = result;
  yield JSON.stringify(fields).slice(0, -1) + ',"output":"';
  for (const piece of output) if (piece) yield jsonStringBody(piece);
  yield '"}';
}

const jsonStringBody = (text: string) => JSON.stringify(text).slice(1, -1);

/**
 * `event_stream=raw-queries` of a native PostgreSQL session: only the SQL of its Query and Parse
 * messages, each as `[t,"i","<base64 SQL>"]`; `event_size` is the SQL's size in bytes.
 */
export async function* renderRawQueriesField(events: AsyncIterable<SessionEvent>): AsyncGenerator<string> {
  yield '"event_stream":[';
  let first = true;
  let size = 0;
  for await (const event of events) {
    if (event.type !== 'i') continue;
    let captured;
    try {
      captured = captureRawQuery(event.data);
    } catch {
      continue; // the startup message, or a message cut by the recording cap
    }
    if (captured?.kind !== 'query' && captured?.kind !== 'parse') continue;
    const sql = Buffer.from(captured.sql, 'utf8');
    size += sql.length;
    yield `${first ? '' : ','}[${event.elapsed},"i","${sql.toString('base64')}"]`;
    first = false;
  }
  yield `],"event_size":${size}`;
}

/**
 * Writes `"event_stream":…,"event_size":N` for the session JSON. `raw` is the stored triples
 * (its size is the stored `event_size`); `utf8` and `base64` are the output (o and e) as one
 * string, sized in code points and base64 characters.
 */
export async function* renderEventStreamField(
  events: AsyncIterable<SessionEvent>,
  format: EventStreamFormat,
  storedEventSize: number,
): AsyncGenerator<string> {
  if (format === 'raw') {
    yield '"event_stream":[';
    let first = true;
    for await (const event of events) {
      yield `${first ? '' : ','}[${event.elapsed},"${event.type}","${event.data.toString('base64')}"]`;
      first = false;
    }
    yield `],"event_size":${storedEventSize}`;
    return;
  }
  const decoder = new StringDecoder('utf8');
  yield '"event_stream":["';
  let size = 0;
  let carry = Buffer.alloc(0);
  const emit = function* (text: string): Generator<string> {
    if (!text) return;
    if (format === 'utf8') {
      size += text.length - (text.match(/[\uD800-\uDBFF]/g)?.length ?? 0);
      yield jsonStringBody(text);
      return;
    }
    // base64 of the text's UTF-8, in runs of whole 3-byte groups.
    const bytes = carry.length ? Buffer.concat([carry, Buffer.from(text)]) : Buffer.from(text);
    const whole = bytes.length - (bytes.length % 3);
    carry = Buffer.from(bytes.subarray(whole));
    const encoded = bytes.subarray(0, whole).toString('base64');
    size += encoded.length;
    yield encoded;
  };
  for await (const event of events) {
    if (event.type === 'i') continue;
    yield* emit(decoder.write(event.data));
  }
  yield* emit(decoder.end());
  if (carry.length) {
    const encoded = carry.toString('base64');
    size += encoded.length;
    yield encoded;
  }
  yield `"],"event_size":${size}`;
}

export interface DownloadOptions {
  extension: string;
  newline: boolean;
  eventTime: boolean;
  events: EventType[];
}

export function parseEventTypes(value: string | undefined): EventType[] {
  const types = (value ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t): t is EventType => t === 'i' || t === 'o' || t === 'e');
  return types.length ? [...new Set(types)] : ['o', 'e'];
}

/** The download body: JSON array, CSV (tabs as commas) or plain bytes, by extension suffix. */
export async function* renderDownload(
  events: AsyncIterable<SessionEvent>,
  startedAt: Date,
  options: DownloadOptions,
): AsyncGenerator<Buffer> {
  const wanted = new Set(options.events);
  const timeOf = (event: SessionEvent) =>
    new Date(startedAt.getTime() + Math.floor(event.elapsed) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (options.extension.endsWith('json')) {
    let first = true;
    for await (const event of events) {
      if (!wanted.has(event.type)) continue;
      const item = JSON.stringify({ time: timeOf(event), type: event.type, stream: event.data.toString('utf8') });
      yield Buffer.from((first ? '[' : ',') + item);
      first = false;
    }
    yield Buffer.from(first ? 'null' : ']');
    return;
  }
  const csv = options.extension.endsWith('csv');
  for await (const event of events) {
    if (!wanted.has(event.type)) continue;
    if (options.eventTime) yield Buffer.from(`${timeOf(event)} `);
    yield csv ? Buffer.from(event.data.toString('latin1').replaceAll('\t', ','), 'latin1') : event.data;
    if (options.newline) yield Buffer.from('\n');
  }
}
