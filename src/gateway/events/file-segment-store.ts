import { createReadStream } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import path from 'node:path';
import type { SegmentStore } from './event-log.js';

/**
 * Segments appended to one file per session under `<data dir>/recordings/`. Used with the
 * embedded store, which takes large binary rows slowly.
 */
export function createFileSegmentStore(dataDir: string): SegmentStore & { init(): Promise<void> } {
  const dir = path.join(dataDir, 'recordings');
  const fileOf = (sessionId: string) => {
    if (!/^[0-9a-f-]{36}$/.test(sessionId)) throw new Error('invalid session id');
    return path.join(dir, `${sessionId}.events`);
  };

  return {
    location: 'files',
    segmentBytes: 1024 * 1024,

    async init() {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    },

    async appendSegment(sessionId, _seq, segment) {
      const handle = await open(fileOf(sessionId), 'a', 0o600);
      try {
        await handle.write(segment);
      } finally {
        await handle.close();
      }
    },

    async *readSegments(sessionId) {
      try {
        await stat(fileOf(sessionId));
      } catch {
        return;
      }
      // Events span read chunks; carry the unfinished tail into the next chunk.
      let carry: Buffer = Buffer.alloc(0);
      for await (const chunk of createReadStream(fileOf(sessionId), { highWaterMark: 1024 * 1024 })) {
        const data = carry.length ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
        const complete = completeEventsLength(data);
        if (complete > 0) yield data.subarray(0, complete);
        carry = data.subarray(complete);
      }
      // An unfinished event at the end is a segment still being appended (the session is
      // running): it is read next time.
    },
  };
}

/** Length of the longest prefix of `data` made of whole encoded events. */
function completeEventsLength(data: Buffer): number {
  let offset = 0;
  while (offset + 13 <= data.length) {
    const end = offset + 13 + data.readUInt32LE(offset + 9);
    if (end > data.length) break;
    offset = end;
  }
  return offset;
}
