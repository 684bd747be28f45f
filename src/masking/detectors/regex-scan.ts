/** Small helpers shared by the regex-based detectors. */

/** Runs a global (`g`) regex over `text`, calling `onMatch` for each non-empty match. */
export function forEachMatch(regex: RegExp, text: string, onMatch: (match: RegExpExecArray) => void): void {
  regex.lastIndex = 0;
  for (let match = regex.exec(text); match !== null; match = regex.exec(text)) {
    if (match[0].length === 0) regex.lastIndex++;
    else onMatch(match);
  }
}

/**
 * Label prefix for values recognised only next to a key such as `dob`, `ssn` or `passport`
 * (`dob: …`, `"dob":"…"`, `dob=…`, `DOB …`). Every optional part is bounded ({0,3}) so two
 * adjacent optional runs of blanks cannot backtrack more than a constant.
 */
export const labelPrefix = (labels: string): string =>
  // The label comes first (V8 scans for its first letters quickly), then a look-behind rejects a
  // label that is the tail of a longer word.
  `(?:${labels})(?<![\\w-](?:${labels}))["']?[ \\t]{0,3}[:=#]?[ \\t]{0,3}["']?`;

/** Offset of the value in a labelled match: the value is always the last capture, at the end. */
export const valueStart = (match: RegExpExecArray, value: string): number => match.index + match[0].length - value.length;
