// Go's regexp (RE2 syntax) for the `pattern` function, translated to a JS RegExp with the `u`
// flag. RE2 is mostly a subset of JS syntax; where the meaning differs (., \s, ^, $, \A, \z,
// POSIX classes, \Q…\E, octal escapes) the translation spells RE2's meaning out, and what RE2
// lacks (lookaround, backreferences, possessive repeats) fails with Go's error texts.
// Limitation: the case-insensitive flag is honoured only as a leading (?i) for the whole pattern.

export class Re2SyntaxError extends Error {
  constructor(code: string, expr: string) {
    super(`error parsing regexp: ${code}: \`${expr}\``);
  }
}

type Range = readonly [number, number];
const MAX_RUNE = 0x10ffff;

const POSIX_CLASSES: ReadonlyMap<string, readonly Range[]> = new Map<string, readonly Range[]>([
  ['alnum', [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]]],
  ['alpha', [[0x41, 0x5a], [0x61, 0x7a]]],
  ['ascii', [[0x00, 0x7f]]],
  ['blank', [[0x09, 0x09], [0x20, 0x20]]],
  ['cntrl', [[0x00, 0x1f], [0x7f, 0x7f]]],
  ['digit', [[0x30, 0x39]]],
  ['graph', [[0x21, 0x7e]]],
  ['lower', [[0x61, 0x7a]]],
  ['print', [[0x20, 0x7e]]],
  ['punct', [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]]],
  ['space', [[0x09, 0x0d], [0x20, 0x20]]],
  ['upper', [[0x41, 0x5a]]],
  ['word', [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a], [0x5f, 0x5f]]],
  ['xdigit', [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]]],
]);

/** RE2's Perl classes are ASCII-only; \s lacks the \v that JS's \s has. */
const PERL_CLASSES: ReadonlyMap<string, readonly Range[]> = new Map<string, readonly Range[]>([
  ['d', [[0x30, 0x39]]],
  ['s', [[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]]],
  ['w', [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a], [0x5f, 0x5f]]],
]);

function complement(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const result: Range[] = [];
  let next = 0;
  for (const [low, high] of sorted) {
    if (low > next) result.push([next, low - 1]);
    next = Math.max(next, high + 1);
  }
  if (next <= MAX_RUNE) result.push([next, MAX_RUNE]);
  return result;
}

function classChar(cp: number): string {
  if (cp < 0x20 || cp > 0x7e) return `\\u{${cp.toString(16)}}`;
  const ch = String.fromCharCode(cp);
  return '\\]-^['.includes(ch) ? `\\${ch}` : ch;
}

function rangesToClassBody(ranges: readonly Range[]): string {
  return ranges.map(([low, high]) => (low === high ? classChar(low) : `${classChar(low)}-${classChar(high)}`)).join('');
}

function literal(cp: number): string {
  if (cp < 0x20 || cp === 0x7f || (cp >= 0xd800 && cp <= 0xdfff)) return `\\u{${cp.toString(16)}}`;
  const ch = String.fromCodePoint(cp);
  return '^$\\.*+?()[]{}|/'.includes(ch) ? `\\${ch}` : ch;
}

const GENERAL_CATEGORY = /^(?:[CLMNPSZ]|[CLMNPSZ][a-z])$/;

interface Flags {
  dotAll: boolean;
  multiLine: boolean;
}

class Translator {
  private i = 0;
  private out = '';
  private flags: Flags = { dotAll: false, multiLine: false };
  private readonly groups: Flags[] = [];
  private ignoreCase = false;
  /** Whether the stack top can be repeated (not the start, "(" or "|"). */
  private canRepeat = false;
  /** Where the repetition operator just before started, or -1. */
  private lastRepeat = -1;

  constructor(private readonly pattern: string) {}

  translate(): RegExp {
    while (this.i < this.pattern.length) this.step();
    if (this.groups.length > 0) throw new Re2SyntaxError('missing closing )', this.pattern);
    try {
      return new RegExp(this.out, this.ignoreCase ? 'iu' : 'u');
    } catch {
      throw new Re2SyntaxError('invalid or unsupported syntax', this.pattern);
    }
  }

  private peek(offset = 0): string | undefined {
    return this.pattern[this.i + offset];
  }

  private atom(text: string): void {
    this.out += text;
    this.canRepeat = true;
    this.lastRepeat = -1;
  }

  private step(): void {
    const ch = this.pattern.codePointAt(this.i) ?? 0;
    const start = this.i;
    switch (String.fromCodePoint(ch)) {
      case '(': return this.openGroup();
      case ')':
        if (this.groups.length === 0) throw new Re2SyntaxError('unexpected )', this.pattern);
        this.flags = this.groups.pop() ?? this.flags;
        this.i++;
        return this.atom(')');
      case '|':
        this.i++;
        this.out += '|';
        this.canRepeat = false;
        this.lastRepeat = -1;
        return;
      case '^':
        this.i++;
        return this.atom(this.flags.multiLine ? '(?:(?<![^\\n]))' : '(?:(?<![\\s\\S]))');
      case '$':
        this.i++;
        return this.atom(this.flags.multiLine ? '(?:(?![^\\n]))' : '(?:(?![\\s\\S]))');
      case '.':
        this.i++;
        return this.atom(this.flags.dotAll ? '[\\s\\S]' : '[^\\n]');
      case '*':
      case '+':
      case '?':
        this.i++;
        return this.repeat(start, true);
      case '{': {
        const sizeIsValid = this.parseRepeatSize();
        if (sizeIsValid === undefined) {
          this.i++;
          return this.atom('\\{');
        }
        return this.repeat(start, sizeIsValid);
      }
      case '[': return this.atom(`[${this.parseClass()}]`);
      case '\\': return this.escape();
      default:
        this.i += ch > 0xffff ? 2 : 1;
        return this.atom(literal(ch));
    }
  }

  /** Emits a repetition operator whose text started at `start`; the cursor is past the operator. */
  private repeat(start: number, sizeIsValid: boolean): void {
    if (!sizeIsValid) throw new Re2SyntaxError('invalid repeat count', this.pattern.slice(start, this.i));
    if (this.peek() === '?') this.i++;
    if (this.lastRepeat >= 0) throw new Re2SyntaxError('invalid nested repetition operator', this.pattern.slice(this.lastRepeat, this.i));
    if (!this.canRepeat) throw new Re2SyntaxError('missing argument to repetition operator', this.pattern.slice(start, this.i));
    this.out += this.pattern.slice(start, this.i);
    this.lastRepeat = start;
  }

  /** Parses {n}, {n,} or {n,m} and tells whether its counts are valid; undefined when it is not one ({ is then a literal). */
  private parseRepeatSize(): boolean | undefined {
    const match = /^\{(\d+)(,(\d*))?\}/.exec(this.pattern.slice(this.i));
    if (!match) return undefined;
    const [text, minText = '', comma, maxText = ''] = match;
    if (/^0\d/.test(minText) || /^0\d/.test(maxText)) return undefined;
    const min = Number(minText);
    const max = comma === undefined ? min : maxText === '' ? -1 : Number(maxText);
    this.i += text.length;
    return min <= 1000 && max <= 1000 && !(max >= 0 && min > max);
  }

  private openGroup(): void {
    const rest = this.pattern.slice(this.i);
    this.lastRepeat = -1;
    if (rest.startsWith('(?P<') || rest.startsWith('(?<')) {
      const named = /^\(\?P?<([^>]*)>/.exec(rest);
      if (!named || !/^[A-Za-z0-9_]+$/.test(named[1] ?? '')) {
        throw new Re2SyntaxError('invalid named capture', named ? named[0] : rest);
      }
      this.i += named[0].length;
      this.pushGroup('(');
    } else if (rest.startsWith('(?')) {
      this.flagGroup(rest);
    } else {
      this.i++;
      this.pushGroup('(');
    }
  }

  private pushGroup(open: string): void {
    this.groups.push({ ...this.flags });
    this.out += open;
    this.canRepeat = false;
  }

  /** (?flags) for the rest of the group, (?flags:…) for a new group. */
  private flagGroup(rest: string): void {
    const match = /^\(\?([imsU]*)(?:-([imsU]*))?([:)])/.exec(rest);
    if (!match || match[2] === '') {
      const bad = /^\(\?[imsU]*(?:-[imsU]*)?./su.exec(rest)?.[0] ?? rest;
      throw new Re2SyntaxError('invalid or unsupported Perl syntax', bad);
    }
    const [text, set = '', clear = '', end] = match;
    // Only a leading "(?i)" can become the RegExp's own flag.
    const leading = end === ')' && this.out === '' && this.groups.length === 0;
    if (clear.includes('i') || (set.includes('i') && !leading)) {
      throw new Re2SyntaxError('case-insensitive flags are supported only as a leading (?i)', text);
    }
    if (set.includes('i')) this.ignoreCase = true;
    this.i += text.length;
    if (end === ':') this.pushGroup('(?:');
    // U (ungreedy) changes which match is found, never whether one is found.
    if (set.includes('s')) this.flags.dotAll = true;
    if (set.includes('m')) this.flags.multiLine = true;
    if (clear.includes('s')) this.flags.dotAll = false;
    if (clear.includes('m')) this.flags.multiLine = false;
  }

  private escape(): void {
    const next = this.peek(1);
    if (next === undefined) throw new Re2SyntaxError('trailing backslash at end of expression', '');
    switch (next) {
      case 'A': this.i += 2; return this.atom('(?:(?<![\\s\\S]))');
      case 'z': this.i += 2; return this.atom('(?:(?![\\s\\S]))');
      case 'b':
      case 'B': this.i += 2; return this.atom(`\\${next}`);
      case 'Q': {
        const end = this.pattern.indexOf('\\E', this.i + 2);
        const text = this.pattern.slice(this.i + 2, end < 0 ? undefined : end);
        this.i = end < 0 ? this.pattern.length : end + 2;
        for (const ch of text) this.atom(literal(ch.codePointAt(0) ?? 0));
        return;
      }
    }
    const classBody = this.classEscape();
    if (classBody !== undefined) return this.atom(`[${classBody}]`);
    this.atom(literal(this.parseEscape()));
  }

  /** \d \s \w (and negations) and \p{…}: a class body, or undefined (cursor unchanged). */
  private classEscape(): string | undefined {
    const letter = this.peek(1) ?? '';
    const perl = PERL_CLASSES.get(letter.toLowerCase());
    if (perl) {
      this.i += 2;
      return rangesToClassBody(letter === letter.toLowerCase() ? perl : complement(perl));
    }
    if (letter !== 'p' && letter !== 'P') return undefined;
    const start = this.i;
    let name: string;
    if (this.peek(2) === '{') {
      const end = this.pattern.indexOf('}', this.i);
      if (end < 0) throw new Re2SyntaxError('invalid character class range', this.pattern.slice(start));
      name = this.pattern.slice(this.i + 3, end);
      this.i = end + 1;
    } else {
      name = String.fromCodePoint(this.pattern.codePointAt(this.i + 2) ?? 0x3f);
      this.i += 2 + name.length;
    }
    let negated = letter === 'P';
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    const property = name === 'Any' ? undefined : GENERAL_CATEGORY.test(name) ? name : `Script=${name}`;
    if (property !== undefined) {
      try {
        new RegExp(`\\p{${property}}`, 'u');
      } catch {
        throw new Re2SyntaxError('invalid character class range', this.pattern.slice(start, this.i));
      }
    }
    if (property === undefined) return negated ? '' : '\\s\\S';
    return `\\${negated ? 'P' : 'p'}{${property}}`;
  }

  /** One escaped character (cursor on the backslash): Go's parseEscape. */
  private parseEscape(): number {
    const start = this.i;
    this.i++;
    const c = this.pattern.codePointAt(this.i);
    if (c === undefined) throw new Re2SyntaxError('trailing backslash at end of expression', '');
    const ch = String.fromCodePoint(c);
    this.i += ch.length;
    const invalid = (): never => {
      throw new Re2SyntaxError('invalid escape sequence', this.pattern.slice(start, this.i));
    };
    if (c < 0x80 && !/[0-9A-Za-z]/.test(ch)) return c;
    const simple = 'afnrtv'.indexOf(ch);
    if (simple >= 0) return [7, 12, 10, 13, 9, 11][simple] ?? 0;
    if (/[0-7]/.test(ch)) {
      // A single non-zero digit would be a backreference, which RE2 does not have.
      if (ch !== '0' && !/[0-7]/.test(this.peek() ?? '')) return invalid();
      let value = c - 0x30;
      for (let digits = 1; digits < 3 && /[0-7]/.test(this.peek() ?? ''); digits++) value = value * 8 + Number(this.pattern[this.i++]);
      return value;
    }
    if (ch !== 'x') return invalid();
    if (this.peek() === '{') {
      const match = /^\{([0-9A-Fa-f]+)\}/.exec(this.pattern.slice(this.i));
      const value = match ? parseInt(match[1] ?? '', 16) : NaN;
      if (!match || value > MAX_RUNE) {
        this.i = Math.min(this.pattern.length, this.i + (match?.[0].length ?? 1));
        return invalid();
      }
      this.i += match[0].length;
      return value;
    }
    const hex = this.pattern.slice(this.i, this.i + 2);
    this.i += Math.min(2, hex.length);
    return /^[0-9A-Fa-f]{2}$/.test(hex) ? parseInt(hex, 16) : invalid();
  }

  /** Parses a bracketed class (cursor on "[") into a JS class body. */
  private parseClass(): string {
    const whole = this.pattern.slice(this.i);
    const missing = (): never => {
      throw new Re2SyntaxError('missing closing ]', whole);
    };
    this.i++;
    let body = '';
    if (this.peek() === '^') {
      body = '^';
      this.i++;
    }
    for (let first = true; first || this.peek() !== ']'; first = false) {
      if (this.peek() === undefined) missing();
      const posix = /^\[:(\^?)([a-z]*):\]/.exec(this.pattern.slice(this.i));
      if (posix) {
        const ranges = POSIX_CLASSES.get(posix[2] ?? '');
        if (!ranges) throw new Re2SyntaxError('invalid character class range', posix[0]);
        body += rangesToClassBody(posix[1] ? complement(ranges) : ranges);
        this.i += posix[0].length;
        continue;
      }
      if (this.peek() === '\\') {
        const escaped = this.classEscape();
        if (escaped !== undefined) {
          body += escaped;
          continue;
        }
      }
      const rangeStart = this.i;
      const low = this.classChar(missing);
      let high = low;
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== undefined) {
        this.i++;
        high = this.classChar(missing);
        if (high < low) throw new Re2SyntaxError('invalid character class range', this.pattern.slice(rangeStart, this.i));
      }
      body += low === high ? classChar(low) : `${classChar(low)}-${classChar(high)}`;
    }
    this.i++;
    return body;
  }

  private classChar(missing: () => never): number {
    if (this.peek() === undefined) missing();
    if (this.peek() === '\\') return this.parseEscape();
    const cp = this.pattern.codePointAt(this.i) ?? 0;
    this.i += cp > 0xffff ? 2 : 1;
    return cp;
  }
}

const MAX_CACHED = 256;
const cache = new Map<string, RegExp>();

/** Compiles an RE2 pattern; throws Re2SyntaxError with Go's message for invalid ones. */
export function compileRe2(pattern: string): RegExp {
  let regexp = cache.get(pattern);
  if (!regexp) {
    regexp = new Translator(pattern).translate();
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(pattern, regexp);
  }
  return regexp;
}
