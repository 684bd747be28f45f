/**
 * Patterns are user input evaluated against production data, so they run on re2js (a port of
 * RE2): matching is linear in the input whatever the pattern, and the syntax is the reference's
 * (Go RE2). Default flags as in Go: `.` does not match a newline, `^`/`$` are text boundaries.
 */
import { RE2JS, RE2JSException, RE2JSSyntaxException, RE2Set } from 're2js';

export class InvalidPatternError extends Error {}

/** Several patterns searched in one pass over the text. */
export interface PatternSet {
  /** Ids (indexes in the list compiled) of the patterns found in `text`. */
  match(text: string): number[];
}

/** `patterns` must be valid (see checkPattern). */
export function compilePatternSet(patterns: readonly string[]): PatternSet {
  const set = new RE2Set(RE2Set.UNANCHORED);
  for (const pattern of patterns) set.add(pattern);
  set.compile();
  return set;
}

/** Throws InvalidPatternError with "invalid regex at position N: why" unless `pattern` compiles. */
export function checkPattern(pattern: string): void {
  try {
    RE2JS.compile(pattern);
  } catch (error) {
    if (error instanceof RE2JSSyntaxException) {
      const fragment = error.getPattern();
      const shown = fragment && fragment !== pattern ? `: \`${fragment}\`` : '';
      const position = errorPosition(pattern, error.getDescription(), fragment);
      throw new InvalidPatternError(`invalid regex at position ${position}: ${error.getDescription()}${shown}`);
    }
    if (error instanceof RE2JSException) throw new InvalidPatternError(`invalid regex: ${error.message}`);
    throw error;
  }
}

/**
 * RE2 names the offending fragment but not where it is, so the 0-based character position is
 * reconstructed: the innermost unclosed `(` for a missing `)`, the end for a trailing backslash,
 * where a trailing fragment starts (an unclosed `[`), else the fragment's first occurrence (which
 * is the offending one unless the same text also appears, valid, earlier in the pattern).
 */
function errorPosition(pattern: string, description: string, fragment: string | null): number {
  if (description === 'missing closing )') return unclosedParenthesis(pattern);
  if (fragment === null || fragment === '') return Math.max(0, pattern.length - 1);
  if (description === 'missing closing ]' && pattern.endsWith(fragment)) return pattern.length - fragment.length;
  return Math.max(0, pattern.indexOf(fragment));
}

function unclosedParenthesis(pattern: string): number {
  const open: number[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '\\') {
      if (pattern[i + 1] === 'Q') {
        const end = pattern.indexOf('\\E', i + 2);
        i = end < 0 ? pattern.length : end + 1;
      } else {
        i++;
      }
    } else if (inClass) {
      if (char === '[' && pattern[i + 1] === ':') {
        const end = pattern.indexOf(':]', i + 2);
        if (end >= 0) i = end + 1;
      } else if (char === ']') {
        inClass = false;
      }
    } else if (char === '[') {
      inClass = true;
      // A `]` right after `[` or `[^` is a literal member, not the end of the class.
      if (pattern[i + 1] === '^') i++;
      if (pattern[i + 1] === ']') i++;
    } else if (char === '(') {
      open.push(i);
    } else if (char === ')') {
      open.pop();
    }
  }
  return open.at(-1) ?? pattern.length;
}
