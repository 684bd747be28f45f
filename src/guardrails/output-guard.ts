/**
 * Output rules on a byte stream. Rules are checked one line at a time (without its `\n` or
 * `\r\n`, so `^` and `$` are the line's bounds): bytes are held back until their line is complete,
 * so a word split across chunks is still found. A line longer than MAX_PIECE_BYTES is checked in
 * pieces cut where the masking engine cuts them (pieceEnd): a value straddling such a cut may be
 * missed. Where cuts fall depends only on the bytes, so any split of the stream into chunks gives
 * the same result as one chunk. Memory per stream: at most MAX_PIECE_BYTES held, plus the chunk
 * being written.
 *
 * On the first line that violates a rule, `pass` holds only the bytes before that line, and
 * nothing more is ever passed: the line and everything after it are withheld.
 */
import { MAX_PIECE_BYTES, pieceEnd } from '../masking/pieces.js';
import type { GuardrailViolation } from './guardrail-types.js';

export interface OutputGuardResult {
  /** Bytes cleared to go on (may be a view of the chunk written). */
  pass: Buffer;
  /** The rules the offending line violates; non-empty at most once per stream. */
  violations: GuardrailViolation[];
}

export interface OutputGuard {
  write(chunk: Uint8Array): OutputGuardResult;
  end(): OutputGuardResult;
}

/** The violations of one line (or piece of a long line), without its terminator. */
export type LineCheck = (line: Buffer) => GuardrailViolation[];

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

const nothing = (): OutputGuardResult => ({ pass: Buffer.alloc(0), violations: [] });

export class LineGuard implements OutputGuard {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private blocked = false;
  private ended = false;

  constructor(private readonly check: LineCheck) {}

  write(chunk: Uint8Array): OutputGuardResult {
    if (this.ended) throw new Error('output guard already ended');
    if (this.blocked) return nothing();
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    // Still inside one undecided line: hold it without re-concatenating what is held.
    if (this.heldBytes + bytes.length <= MAX_PIECE_BYTES && !bytes.includes(NEWLINE)) {
      this.hold(Buffer.from(bytes));
      return nothing();
    }
    const data = this.held.length > 0 ? Buffer.concat([...this.held, bytes]) : bytes;
    this.held = [];
    this.heldBytes = 0;
    return this.drain(data, false);
  }

  end(): OutputGuardResult {
    if (this.ended) return nothing();
    this.ended = true;
    if (this.blocked) return nothing();
    const data = Buffer.concat(this.held);
    this.held = [];
    this.heldBytes = 0;
    return this.drain(data, true);
  }

  /** Checks every line (or piece) of `data` that is decided; holds the undecided tail. */
  private drain(data: Buffer, final: boolean): OutputGuardResult {
    let start = 0;
    while (start < data.length) {
      const newline = data.indexOf(NEWLINE, start);
      const contentEnd = newline < 0 ? data.length : newline;
      let unitEnd: number;
      let line: Buffer;
      if (contentEnd - start > MAX_PIECE_BYTES) {
        // pieceEnd works on chars; latin1 makes one char per byte.
        unitEnd = start + pieceEnd(data.toString('latin1', start, start + MAX_PIECE_BYTES), 0);
        line = data.subarray(start, unitEnd);
      } else if (newline >= 0) {
        unitEnd = newline + 1;
        line = data.subarray(start, newline > start && data[newline - 1] === CARRIAGE_RETURN ? newline - 1 : newline);
      } else if (final) {
        unitEnd = data.length;
        line = data.subarray(start);
      } else {
        break;
      }
      const violations = this.check(line);
      if (violations.length > 0) {
        this.blocked = true;
        return { pass: data.subarray(0, start), violations };
      }
      start = unitEnd;
    }
    if (start < data.length) this.hold(Buffer.from(data.subarray(start)));
    return { pass: data.subarray(0, start), violations: [] };
  }

  private hold(bytes: Buffer): void {
    this.held.push(bytes);
    this.heldBytes += bytes.length;
  }
}

/** For a stream without output rules: nothing is held back. */
export class OpenGuard implements OutputGuard {
  write(chunk: Uint8Array): OutputGuardResult {
    return { pass: Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength), violations: [] };
  }

  end(): OutputGuardResult {
    return nothing();
  }
}
