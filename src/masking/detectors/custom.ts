/** Custom entity types of a data-masking rule: a regex and/or a deny list of words. */
import { RE2JS, type RE2JS as CompiledPattern } from 're2js';
import type { CustomEntityType, Detector } from '../types.js';
import { forEachMatch } from './regex-scan.js';

const asBytes = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

/**
 * A rule's regex runs on production output, so it runs on re2js (RE2): linear time whatever the
 * pattern. RE2 reads the Python forms Presidio rules use, `(?P<name>…)` and a leading `(?i)`.
 * The engine scans bytes (one latin1 char per byte), so the pattern's non-ASCII characters are
 * turned into their UTF-8 bytes: a literal `é` matches, a class such as `[éè]` does not.
 * Throws the RE2 syntax error for an invalid pattern.
 */
function compileRule(source: string): CompiledPattern {
  return RE2JS.compile(asBytes(source));
}

const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A user regex may match '\n' (`\s+`), which would make the result depend on how the stream is
 * chunked, so it runs on each line on its own; `^` and `$` therefore mean line start and end.
 */
function findPerLine(pattern: CompiledPattern, text: string, onValue: (start: number, end: number) => void): void {
  for (let lineStart = 0; lineStart < text.length; ) {
    const newline = text.indexOf('\n', lineStart);
    const lineEnd = newline === -1 ? text.length : newline;
    const matcher = pattern.matcher(text.slice(lineStart, lineEnd));
    while (matcher.find()) {
      if (matcher.end() > matcher.start()) onValue(lineStart + matcher.start(), lineStart + matcher.end());
    }
    lineStart = lineEnd + 1;
  }
}

export function createCustomDetector(custom: CustomEntityType): Detector {
  const pattern = custom.regex ? compileRule(custom.regex) : undefined;
  const words = (custom.deny_list ?? []).filter((word) => word.length > 0 && !word.includes('\n'));
  // Whole words, case-insensitive, like Presidio's deny-list recognizer; literals only, so linear.
  const denyList = words.length > 0 ? new RegExp(`(?<!\\w)(?:${words.map((word) => escapeRegex(asBytes(word))).join('|')})(?!\\w)`, 'gi') : undefined;
  return {
    entityTypes: [custom.name],
    find(text, emit) {
      if (pattern) findPerLine(pattern, text, (start, end) => emit(start, end, custom.name));
      if (denyList) forEachMatch(denyList, text, (m) => emit(m.index, m.index + m[0].length, custom.name));
    },
  };
}
