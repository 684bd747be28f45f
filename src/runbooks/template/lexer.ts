// Splits a template into tokens the way Go's text/template/parse lexer does, so that the parser
// sees the same token stream and reports the same errors. The whole input is tokenized up
// front; the list ends with an 'eof' or an 'error' token.
import { byteLength } from './bytes.js';
import { formatRuneU, goQuote } from './quote.js';

export type TokenType =
  | 'error' | 'bool' | 'char' | 'charConstant' | 'assign' | 'declare' | 'eof' | 'field'
  | 'identifier' | 'leftDelim' | 'leftParen' | 'number' | 'pipe' | 'rawString' | 'rightDelim'
  | 'rightParen' | 'space' | 'string' | 'text' | 'variable'
  | KeywordType;

type KeywordType = 'block' | 'break' | 'continue' | 'define' | 'dot' | 'else' | 'end' | 'if' | 'nil' | 'range' | 'template' | 'with';

const KEYWORDS: ReadonlyMap<string, KeywordType> = new Map<string, KeywordType>([
  ['block', 'block'], ['break', 'break'], ['continue', 'continue'], ['define', 'define'], ['else', 'else'],
  ['end', 'end'], ['if', 'if'], ['nil', 'nil'], ['range', 'range'], ['template', 'template'], ['with', 'with'],
]);

export interface Token {
  readonly type: TokenType;
  /** Offset of the token in the source string. */
  readonly pos: number;
  readonly val: string;
  readonly line: number;
}

export function isKeyword(type: TokenType): boolean {
  return type === 'dot' || KEYWORDS.has(type);
}

/** How Go's parser names a token in "unexpected ..." errors. */
export function describeToken(token: Token): string {
  if (token.type === 'eof') return 'EOF';
  if (token.type === 'error') return token.val;
  if (isKeyword(token.type)) return `<${token.val}>`;
  if (byteLength(token.val) > 10) return `${goQuote(Array.from(token.val).slice(0, 10).join(''))}...`;
  return goQuote(token.val);
}

const LEFT_DELIM = '{{';
const RIGHT_DELIM = '}}';
const LEFT_COMMENT = '/*';
const RIGHT_COMMENT = '*/';
const TRIM_MARKER_LENGTH = 2; // "- " or " -"

function isSpace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
}

const ALPHANUMERIC = /^[_\p{L}\p{Nd}]$/u;
function isAlphaNumeric(ch: string | undefined): boolean {
  return ch !== undefined && ALPHANUMERIC.test(ch);
}

function hasLeftTrimMarker(text: string, at: number): boolean {
  return text[at] === '-' && isSpace(text[at + 1]);
}

function hasRightTrimMarker(text: string, at: number): boolean {
  return isSpace(text[at]) && text[at + 1] === '-';
}

function leadingSpaceLength(text: string, from: number): number {
  let end = from;
  while (isSpace(text[end])) end++;
  return end - from;
}

function trailingSpaceLength(text: string, from: number, to: number): number {
  let start = to;
  while (start > from && isSpace(text[start - 1])) start--;
  return to - start;
}

class LexError extends Error {}

class Lexer {
  readonly tokens: Token[] = [];
  private pos = 0;
  private start = 0;
  private parenDepth = 0;
  private lineCursor = 0;
  private lineAtCursor = 1;

  constructor(private readonly input: string) {}

  run(): Token[] {
    try {
      while (this.lexText()) {
        this.lexAfterLeftDelim();
      }
      this.emit('eof');
    } catch (error) {
      if (!(error instanceof LexError)) throw error;
      this.tokens.push({ type: 'error', pos: this.start, val: error.message, line: this.lineOf(this.start) });
    }
    return this.tokens;
  }

  // Token positions only grow, so the line count advances with them.
  private lineOf(pos: number): number {
    for (; this.lineCursor < pos; this.lineCursor++) {
      if (this.input.charCodeAt(this.lineCursor) === 10) this.lineAtCursor++;
    }
    return this.lineAtCursor;
  }

  private emit(type: TokenType): void {
    this.tokens.push({ type, pos: this.start, val: this.input.slice(this.start, this.pos), line: this.lineOf(this.start) });
    this.start = this.pos;
  }

  private ignore(): void {
    this.start = this.pos;
  }

  private fail(message: string): never {
    throw new LexError(message);
  }

  /** Scans text up to the next "{{" (false at the end of input), trimming before "{{- ". */
  private lexText(): boolean {
    const delim = this.input.indexOf(LEFT_DELIM, this.pos);
    if (delim < 0) {
      this.pos = this.input.length;
      if (this.pos > this.start) this.emit('text');
      return false;
    }
    const trim = hasLeftTrimMarker(this.input, delim + LEFT_DELIM.length)
      ? trailingSpaceLength(this.input, this.start, delim)
      : 0;
    this.pos = delim - trim;
    if (this.pos > this.start) this.emit('text');
    this.pos = delim;
    this.ignore();
    return true;
  }

  private lexAfterLeftDelim(): void {
    this.pos += LEFT_DELIM.length;
    const afterMarker = hasLeftTrimMarker(this.input, this.pos) ? TRIM_MARKER_LENGTH : 0;
    if (this.input.startsWith(LEFT_COMMENT, this.pos + afterMarker)) {
      this.pos += afterMarker;
      this.ignore();
      this.lexComment();
      return;
    }
    this.emit('leftDelim');
    this.pos += afterMarker;
    this.ignore();
    this.parenDepth = 0;
    this.lexInsideAction();
  }

  private lexComment(): void {
    this.pos += LEFT_COMMENT.length;
    const end = this.input.indexOf(RIGHT_COMMENT, this.pos);
    if (end < 0) this.fail('unclosed comment');
    this.pos = end + RIGHT_COMMENT.length;
    const delim = this.atRightDelim();
    if (!delim.found) this.fail('comment ends before closing delimiter');
    this.pos += (delim.trim ? TRIM_MARKER_LENGTH : 0) + RIGHT_DELIM.length;
    if (delim.trim) this.pos += leadingSpaceLength(this.input, this.pos);
    this.ignore();
  }

  private atRightDelim(): { found: boolean; trim: boolean } {
    if (hasRightTrimMarker(this.input, this.pos) && this.input.startsWith(RIGHT_DELIM, this.pos + TRIM_MARKER_LENGTH)) {
      return { found: true, trim: true };
    }
    return { found: this.input.startsWith(RIGHT_DELIM, this.pos), trim: false };
  }

  private lexRightDelim(trim: boolean): void {
    if (trim) {
      this.pos += TRIM_MARKER_LENGTH;
      this.ignore();
    }
    this.pos += RIGHT_DELIM.length;
    this.emit('rightDelim');
    if (trim) {
      this.pos += leadingSpaceLength(this.input, this.pos);
      this.ignore();
    }
  }

  /** Scans the inside of an action up to and including its right delimiter. */
  private lexInsideAction(): void {
    for (;;) {
      const delim = this.atRightDelim();
      if (delim.found) {
        if (this.parenDepth > 0) this.fail('unclosed left paren');
        this.lexRightDelim(delim.trim);
        return;
      }
      const ch = this.peekRune();
      if (ch === undefined) this.fail('unclosed action');
      if (isSpace(ch)) {
        this.lexSpace();
        continue;
      }
      this.pos += ch.length;
      switch (ch) {
        case '=': this.emit('assign'); break;
        case ':':
          if (this.input[this.pos] !== '=') this.fail('expected :=');
          this.pos++;
          this.emit('declare');
          break;
        case '|': this.emit('pipe'); break;
        case '"': this.lexQuote(); break;
        case '`': this.lexRawQuote(); break;
        case '$': this.lexFieldOrVariable('variable'); break;
        case "'": this.lexChar(); break;
        case '(':
          this.emit('leftParen');
          this.parenDepth++;
          break;
        case ')':
          this.emit('rightParen');
          this.parenDepth--;
          if (this.parenDepth < 0) this.fail('unexpected right paren');
          break;
        default: this.lexOther(ch);
      }
    }
  }

  private lexOther(ch: string): void {
    const next = this.input[this.pos];
    if (ch === '.' && next !== undefined && !(next >= '0' && next <= '9')) {
      this.lexFieldOrVariable('field');
    } else if (ch === '.' || ch === '+' || ch === '-' || (ch >= '0' && ch <= '9')) {
      this.pos -= ch.length;
      this.lexNumber();
    } else if (isAlphaNumeric(ch)) {
      this.lexIdentifier();
    } else if (ch >= ' ' && ch <= '~') {
      this.emit('char');
    } else {
      this.fail(`unrecognized character in action: ${formatRuneU(runeOf(ch))}`);
    }
  }

  private peekRune(): string | undefined {
    const cp = this.input.codePointAt(this.pos);
    return cp === undefined ? undefined : String.fromCodePoint(cp);
  }

  /** Scans a run of spaces (a single space before " -}}" never gets here: see atRightDelim). */
  private lexSpace(): void {
    while (isSpace(this.input[this.pos])) this.pos++;
    // The last space belongs to a trim-marked closing delimiter " -}}".
    if (hasRightTrimMarker(this.input, this.pos - 1) && this.input.startsWith(RIGHT_DELIM, this.pos - 1 + TRIM_MARKER_LENGTH)) {
      this.pos--;
    }
    this.emit('space');
  }

  private acceptRun(valid: string): void {
    while (this.pos < this.input.length && valid.includes(this.input[this.pos] ?? '')) this.pos++;
  }

  private accept(valid: string): boolean {
    if (this.pos < this.input.length && valid.includes(this.input[this.pos] ?? '')) {
      this.pos++;
      return true;
    }
    return false;
  }

  private atTerminator(): boolean {
    const ch = this.input[this.pos];
    if (ch === undefined || isSpace(ch)) return true;
    if ('.,|:)('.includes(ch)) return true;
    return this.input.startsWith(RIGHT_DELIM, this.pos);
  }

  private consumeAlphaNumerics(): void {
    for (let ch = this.peekRune(); isAlphaNumeric(ch); ch = this.peekRune()) this.pos += ch?.length ?? 0;
  }

  /** Called when an identifier is followed by something other than a terminator. */
  private badCharacter(): never {
    return this.fail(`bad character ${formatRuneU(runeOf(this.peekRune() ?? ''))}`);
  }

  private lexIdentifier(): void {
    this.consumeAlphaNumerics();
    if (!this.atTerminator()) this.badCharacter();
    const word = this.input.slice(this.start, this.pos);
    const keyword = KEYWORDS.get(word);
    if (keyword) this.emit(keyword);
    else if (word === 'true' || word === 'false') this.emit('bool');
    else this.emit('identifier');
  }

  /** Scans ".name" or "$name" (the '.' or '$' is consumed); alone they are dot and "$". */
  private lexFieldOrVariable(type: 'field' | 'variable'): void {
    if (this.atTerminator()) {
      this.emit(type === 'variable' ? 'variable' : 'dot');
      return;
    }
    this.consumeAlphaNumerics();
    if (!this.atTerminator()) this.badCharacter();
    this.emit(type);
  }

  private lexChar(): void {
    this.lexQuoted("'", 'unterminated character constant');
    this.emit('charConstant');
  }

  private lexQuote(): void {
    this.lexQuoted('"', 'unterminated quoted string');
    this.emit('string');
  }

  private lexQuoted(quote: string, unterminated: string): void {
    for (;;) {
      const ch = this.input[this.pos++];
      if (ch === '\\') {
        const escaped = this.input[this.pos++];
        if (escaped === undefined || escaped === '\n') this.fail(unterminated);
      } else if (ch === undefined || ch === '\n') {
        this.fail(unterminated);
      } else if (ch === quote) {
        return;
      }
    }
  }

  private lexRawQuote(): void {
    const end = this.input.indexOf('`', this.pos);
    if (end < 0) this.fail('unterminated raw quoted string');
    this.pos = end + 1;
    this.emit('rawString');
  }

  private lexNumber(): void {
    if (!this.scanNumber()) this.badNumber();
    const sign = this.input[this.pos];
    if (sign === '+' || sign === '-') {
      // Go's complex constant syntax (1+2i).
      if (!this.scanNumber() || this.input[this.pos - 1] !== 'i') this.badNumber();
      this.fail(`complex numbers are not supported: ${goQuote(this.input.slice(this.start, this.pos))}`);
    }
    this.emit('number');
  }

  private badNumber(): never {
    return this.fail(`bad number syntax: ${goQuote(this.input.slice(this.start, this.pos))}`);
  }

  // Like Go's scanner this accepts some invalid numbers ("089", "0x.p1"); the parser rejects them.
  private scanNumber(): boolean {
    this.accept('+-');
    let digits = '0123456789_';
    if (this.accept('0')) {
      if (this.accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (this.accept('oO')) digits = '01234567_';
      else if (this.accept('bB')) digits = '01_';
    }
    this.acceptRun(digits);
    if (this.accept('.')) this.acceptRun(digits);
    if (digits.length === 11 && this.accept('eE')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    if (digits.length === 23 && this.accept('pP')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    this.accept('i');
    const next = this.peekRune();
    if (isAlphaNumeric(next)) {
      this.pos += next?.length ?? 0;
      return false;
    }
    return true;
  }
}

/** The code point Go would see: an escaped invalid byte reads as U+FFFD. */
function runeOf(ch: string): number {
  const cp = ch.codePointAt(0) ?? -1;
  return cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp;
}

export function tokenize(input: string): Token[] {
  return new Lexer(input).run();
}
