/** Custom entity types of a data-masking rule: a regex and/or a deny list of words. */
import type { CustomEntityType, Detector } from '../types.js';
import { forEachMatch } from './regex-scan.js';

/**
 * Presidio regexes are Python-flavoured. Translates the two constructs JavaScript spells
 * differently and that rules commonly use: named groups and a leading `(?i)`.
 */
function compilePythonRegex(source: string): RegExp {
  const caseInsensitive = source.startsWith('(?i)');
  const body = (caseInsensitive ? source.slice(4) : source).replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>');
  return new RegExp(body, caseInsensitive ? 'gi' : 'g');
}

const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A user regex may match '\n' (`\s+`), which would make the result depend on how the stream is
 * chunked, so it runs on each line on its own; `^` and `$` therefore mean line start and end.
 * A user regex is not vetted for catastrophic backtracking: rules are written by admins.
 */
function findPerLine(regex: RegExp, text: string, onValue: (start: number, end: number) => void): void {
  for (let lineStart = 0; lineStart < text.length; ) {
    const newline = text.indexOf('\n', lineStart);
    const lineEnd = newline === -1 ? text.length : newline;
    forEachMatch(regex, text.slice(lineStart, lineEnd), (m) => onValue(lineStart + m.index, lineStart + m.index + m[0].length));
    lineStart = lineEnd + 1;
  }
}

export function createCustomDetector(custom: CustomEntityType): Detector {
  const regex = custom.regex ? compilePythonRegex(custom.regex) : undefined;
  const words = (custom.deny_list ?? []).filter((word) => word.length > 0 && !word.includes('\n'));
  // Whole words, case-insensitive, like Presidio's deny-list recognizer.
  const denyList = words.length > 0 ? new RegExp(`(?<!\\w)(?:${words.map(escapeRegex).join('|')})(?!\\w)`, 'gi') : undefined;
  return {
    entityTypes: [custom.name],
    find(text, emit) {
      if (regex) findPerLine(regex, text, (start, end) => emit(start, end, custom.name));
      if (denyList) forEachMatch(denyList, text, (m) => emit(m.index, m.index + m[0].length, custom.name));
    },
  };
}
