import type { Db } from '../store/db.js';
import { toBuffer } from '../store/db.js';
import type { SegmentStore } from './event-log.js';

/** Segments as rows of `session_event_segments`, read back a few at a time. */
export function createPgSegmentStore(db: Db): SegmentStore {
  // Rows fetched per query while reading a recording: a few segments in memory at most.
  const READ_BATCH = 2;
  return {
    location: 'database',
    // Each row is a round trip and a commit: fewer, larger rows stream faster.
    segmentBytes: 4 * 1024 * 1024,

    async appendSegment(sessionId, seq, segment) {
      await db.insertInto('session_event_segments').values({ session_id: sessionId, seq, data: segment }).execute();
    },

    async *readSegments(sessionId) {
      let next = 0;
      for (;;) {
        const rows = await db
          .selectFrom('session_event_segments')
          .select(['seq', 'data'])
          .where('session_id', '=', sessionId)
          .where('seq', '>=', next)
          .orderBy('seq')
          .limit(READ_BATCH)
          .execute();
        for (const row of rows) yield toBuffer(row.data);
        if (rows.length < READ_BATCH) return;
        next = rows[rows.length - 1]!.seq + 1;
      }
    },
  };
}
