/** Small helpers shared by the regex-based detectors. */
import { candidatesOf, type Candidates } from './candidates.js';

/** Runs a global (`g`) regex over `text`, calling `onMatch` for each non-empty match. */
export function forEachMatch(regex: RegExp, text: string, onMatch: (match: RegExpExecArray) => void): void {
  regex.lastIndex = 0;
  for (let match = regex.exec(text); match !== null; match = regex.exec(text)) {
    if (match[0].length === 0) regex.lastIndex++;
    else onMatch(match);
  }
}

/** A sticky regex whose every match starts at a position of one list of ./candidates.ts. */
export interface AnchoredRegex {
  readonly regex: RegExp;
  readonly startsAt: keyof Candidates;
}

const anchoredRegexes: AnchoredRegex[] = [];

/** Every anchored regex declared so far, so that a test can hold each to its claim. */
export const allAnchoredRegexes = (): readonly AnchoredRegex[] => anchoredRegexes;

export function anchoredRegex(regex: RegExp, startsAt: keyof Candidates): AnchoredRegex {
  if (!regex.sticky || regex.global) throw new Error(`an anchored regex is tried at given positions, so it must be sticky: ${regex}`);
  const anchored = { regex, startsAt };
  anchoredRegexes.push(anchored);
  return anchored;
}

/**
 * The matches forEachMatch would give for the same regex made global: the regex is tried at each
 * candidate not inside the previous match, so the regex engine never scans the text in between.
 */
export function forEachAnchoredMatch({ regex, startsAt }: AnchoredRegex, text: string, onMatch: (match: RegExpExecArray) => void): void {
  let next = 0;
  for (const start of candidatesOf(text)[startsAt]) {
    if (start < next) continue;
    regex.lastIndex = start;
    const match = regex.exec(text);
    if (match === null) continue;
    if (match[0].length === 0) {
      next = start + 1;
      continue;
    }
    onMatch(match);
    next = start + match[0].length;
  }
}

const BLANKS = 40;

/**
 * Label prefix for values recognised only next to a key such as `dob`, `ssn` or `passport`
 * (`dob: …`, `"dob":"…"`, `dob=…`, `DOB …`, and aligned output: psql's expanded
 * `dob            | …`, a report's `DOB:            …`). Every optional part is bounded: the
 * blanks before a separator can only end at it, so the two runs of blanks backtrack at most a
 * constant (BLANKS) before the value, which never starts with a blank, is tried.
 */
export const labelPrefix = (labels: string): string =>
  // The look-behind rejects a label that is the tail of a longer word, so a match starts a token.
  `(?:${labels})(?<![\\w-](?:${labels}))["']?(?:[ \\t]{0,${BLANKS}}[:=#|])?[ \\t]{0,${BLANKS}}["']?`;

/** Offset of the value in a labelled match: the value is always the last capture, at the end. */
export const valueStart = (match: RegExpExecArray, value: string): number => match.index + match[0].length - value.length;
