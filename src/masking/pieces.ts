/**
 * How the stream is cut into scanned units. Detectors are line-local, so a unit is made of whole
 * lines; a line longer than MAX_PIECE_BYTES is cut into pieces. Where a long line is cut depends
 * only on its bytes (never on chunk boundaries), which is what makes every chunking of the input
 * give the same output. A value that straddles such a cut is not guaranteed to be found; cuts
 * prefer a delimiter (quote, comma, …) so JSON or CSV values are rarely split.
 */
export const MAX_PIECE_BYTES = 4096;

const STRONG_DELIMITERS = new Set([0x22, 0x27, 0x2c, 0x3b, 0x7c, 0x09, 0x3c, 0x3e, 0x7b, 0x7d, 0x5b, 0x5d]); // " ' , ; | \t < > { } [ ]
const SPACE = 0x20;

/**
 * End (exclusive) of the piece starting at `start` of a line known to have more than
 * MAX_PIECE_BYTES chars left: just after the last strong delimiter in the second half of the
 * window, else after the last space there, else the hard limit.
 */
export function pieceEnd(text: string, start: number): number {
  const limit = start + MAX_PIECE_BYTES;
  const half = start + MAX_PIECE_BYTES / 2;
  let space = -1;
  for (let i = limit - 1; i >= half; i--) {
    const code = text.charCodeAt(i);
    if (STRONG_DELIMITERS.has(code)) return i + 1;
    if (code === SPACE && space < 0) space = i + 1;
  }
  return space > 0 ? space : limit;
}
