/**
 * PRIVATE_KEY: a PEM block from `-----BEGIN … PRIVATE KEY-----` to `-----END … PRIVATE KEY-----`
 * spans many lines (and many chunks), so unlike the line-local detectors it is tracked with state
 * carried from one scanned unit to the next. Everything from the BEGIN marker to the end of the
 * END marker is removed and replaced by one marker. If no END marker shows up within
 * MAX_KEY_BYTES (an RSA-8192 PEM is ~6.5 KiB), suppression stops there: the cap keeps a stray
 * BEGIN line from swallowing the rest of a session.
 */
const BEGIN = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----/g;
const END = /-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----/g;
const MAX_KEY_BYTES = 16 * 1024;

/** [start, end) to remove; `first` is true for the range holding the BEGIN marker. */
export type KeyRange = { start: number; end: number; first: boolean };

export class PrivateKeyTracker {
  /** Bytes of the current key already removed, or -1 when outside a key. */
  private removed = -1;

  /** Ranges of `text` (the next unit of the stream) that belong to a private key. */
  scan(text: string): KeyRange[] {
    const ranges: KeyRange[] = [];
    let position = 0;
    // Searching for '-----BEGIN' starts at every '-' (common in logs); 'PRIVATE KEY-----', which
    // BEGIN also needs, starts at 'P'.
    if (this.removed < 0 && !text.includes('PRIVATE KEY-----')) return ranges;
    while (position < text.length) {
      let first = false;
      if (this.removed < 0) {
        BEGIN.lastIndex = position;
        const begin = BEGIN.exec(text);
        if (begin === null) break;
        position = begin.index;
        this.removed = 0;
        first = true;
      }
      const limit = Math.min(text.length, position + MAX_KEY_BYTES - this.removed);
      END.lastIndex = position;
      const end = END.exec(text);
      const endMarkerStop = end === null ? Infinity : end.index + end[0].length;
      const closed = endMarkerStop <= limit;
      const stop = closed ? endMarkerStop : limit;
      ranges.push({ start: position, end: stop, first });
      this.removed += stop - position;
      if (closed || this.removed >= MAX_KEY_BYTES) this.removed = -1;
      position = stop;
    }
    return ranges;
  }
}
