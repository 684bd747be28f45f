/**
 * deny_words_list and pattern_match rules, as the reference does: a word is a case-sensitive
 * substring (compared as UTF-8 bytes), a pattern an unanchored RE2 search over the text decoded
 * as UTF-8 (an invalid byte reads as U+FFFD, as in Go).
 */
import type { DenyWordsRule, PatternMatchRule } from './guardrail-types.js';
import { compilePatternSet, type PatternSet } from './regex.js';
import { WordSearch } from './word-search.js';

export type TextRule = DenyWordsRule | PatternMatchRule;

export interface TextRuleMatch {
  /** Index of the rule in the list given to TextRules. */
  index: number;
  matchedWords: string[];
}

export class TextRules {
  private readonly words: WordSearch;
  /** Per word id (as given to WordSearch): its rule index and the word. */
  private readonly wordOwners: { index: number; word: string }[] = [];
  /** Rule index of each pattern, by its id in `patterns`. */
  private readonly patternOwners: number[] = [];
  private readonly patterns: PatternSet | undefined;
  private readonly rules: readonly TextRule[];

  /** `rules` must have been validated. */
  constructor(rules: readonly TextRule[]) {
    this.rules = rules;
    rules.forEach((rule, index) => {
      if (rule.type === 'deny_words_list') {
        for (const word of new Set(rule.words)) if (word !== '') this.wordOwners.push({ index, word });
      } else {
        this.patternOwners.push(index);
      }
    });
    this.words = new WordSearch(this.wordOwners.map(({ word }) => Buffer.from(word, 'utf8')));
    const patterns = this.patternOwners.map((index) => (rules[index] as PatternMatchRule).pattern_regex);
    this.patterns = patterns.length > 0 ? compilePatternSet(patterns) : undefined;
  }

  /**
   * The rules `bytes` violates, in rule order; matched words in the rule's own order. `text` is
   * the same bytes decoded, when the caller has it already.
   */
  check(bytes: Uint8Array, text?: string): TextRuleMatch[] {
    const foundWords = new Map<number, Set<string>>();
    if (this.wordOwners.length > 0) {
      for (const id of this.words.search(bytes)) {
        const { index, word } = this.wordOwners[id]!;
        let words = foundWords.get(index);
        if (!words) foundWords.set(index, (words = new Set()));
        words.add(word);
      }
    }
    const matches: TextRuleMatch[] = [];
    for (const [index, words] of foundWords) {
      const rule = this.rules[index] as DenyWordsRule;
      matches.push({ index, matchedWords: [...new Set(rule.words)].filter((word) => words.has(word)) });
    }
    if (this.patterns) {
      // re2js reads a string faster than UTF-8 bytes, even counting the decoding.
      const decoded = text ?? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
      for (const id of this.patterns.match(decoded)) matches.push({ index: this.patternOwners[id]!, matchedWords: [] });
    }
    return matches.sort((a, b) => a.index - b.index);
  }
}
