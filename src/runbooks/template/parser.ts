// A port of the structure of Go's text/template/parse parser, so that templates parse into the
// same trees and fail with the same messages. {{define}}, {{template}} and {{block}} are not
// supported: they fail with a parse error saying so.
import type {
  ActionNode, ArgNode, BodyNode, BranchNode, CommandNode, ListNode, LoopControlNode, PipeNode, VariableNode,
} from './ast.js';
import { nodeToString } from './ast.js';
import { BUILTINS } from './builtins.js';
import { parseError } from './errors.js';
import type { TemplateFunction } from './functions.js';
import { describeToken, tokenize, type Token, type TokenType } from './lexer.js';
import { parseNumberLiteral } from './numbers.js';
import { goQuote, unquoteString } from './quote.js';
import { RUNBOOK_FUNCTIONS } from './runbook-functions.js';

const FUNCTIONS: ReadonlyMap<string, TemplateFunction> = new Map([...BUILTINS, ...RUNBOOK_FUNCTIONS]);

/** Nesting of control structures and parentheses; deeper templates are refused (stack safety). */
export const MAX_NESTING_DEPTH = 256;

/** {{end}} and {{else}} close a list; they never end up in the tree. */
interface ListEnd { readonly kind: 'end' | 'else'; readonly pos: number }

function isListEnd(node: BodyNode | ListEnd): node is ListEnd {
  return node.kind === 'end' || node.kind === 'else';
}

class Parser {
  private index = 0;
  /** Go reports parse errors at the line of the last token it read from the lexer. */
  private furthest = 0;
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  private depth = 0;
  private actionLine = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  parse(): ListNode {
    const root: ListNode = { kind: 'list', pos: this.peek().pos, nodes: [] };
    while (this.peek().type !== 'eof') {
      const node = this.textOrAction();
      if (isListEnd(node)) this.fail(`unexpected {{${node.kind}}}`);
      root.nodes.push(node);
    }
    return root;
  }

  private fail(message: string): never {
    throw parseError(this.tokens[this.furthest]?.line ?? 1, message);
  }

  private unexpected(token: Token, context: string): never {
    if (token.type === 'error') {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== token.line) {
        extra = ` in action started at :${this.actionLine}`;
        if (token.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.fail(token.val + extra);
    }
    this.fail(`unexpected ${describeToken(token)} in ${context}`);
  }

  private tokenAt(index: number): Token {
    // The lexer's list always ends with an eof or error token, and reading stops there.
    const token = this.tokens[Math.min(index, this.tokens.length - 1)];
    if (!token) throw new Error('empty token list');
    this.furthest = Math.max(this.furthest, Math.min(index, this.tokens.length - 1));
    return token;
  }

  private next(): Token {
    return this.tokenAt(this.index++);
  }

  private backup(count = 1): void {
    this.index -= count;
  }

  private peek(): Token {
    return this.tokenAt(this.index);
  }

  private nextNonSpace(): Token {
    let token = this.next();
    while (token.type === 'space') token = this.next();
    return token;
  }

  private peekNonSpace(): Token {
    const token = this.nextNonSpace();
    this.backup();
    return token;
  }

  private expect(type: TokenType, context: string): Token {
    const token = this.nextNonSpace();
    if (token.type !== type) this.unexpected(token, context);
    return token;
  }

  private enter(): void {
    if (++this.depth > MAX_NESTING_DEPTH) this.fail(`max nesting depth of ${MAX_NESTING_DEPTH} exceeded`);
  }

  /** Items up to the {{end}} or {{else}} that closes them. */
  private itemList(): { list: ListNode; end: ListEnd } {
    const list: ListNode = { kind: 'list', pos: this.peekNonSpace().pos, nodes: [] };
    while (this.peekNonSpace().type !== 'eof') {
      const node = this.textOrAction();
      if (isListEnd(node)) return { list, end: node };
      list.nodes.push(node);
    }
    return this.fail('unexpected EOF');
  }

  private textOrAction(): BodyNode | ListEnd {
    const token = this.nextNonSpace();
    switch (token.type) {
      case 'text': return { kind: 'text', pos: token.pos, text: token.val };
      case 'leftDelim': {
        const outerLine = this.actionLine;
        this.actionLine = token.line;
        try {
          return this.action();
        } finally {
          this.actionLine = outerLine;
        }
      }
      default: return this.unexpected(token, 'input');
    }
  }

  private action(): BodyNode | ListEnd {
    const token = this.nextNonSpace();
    switch (token.type) {
      case 'break':
      case 'continue': return this.loopControl(token);
      case 'else': return this.elseControl();
      case 'end': return { kind: 'end', pos: this.expect('rightDelim', 'end').pos };
      case 'if':
      case 'with':
      case 'range': return this.branchControl(token.type);
      case 'define':
      case 'template':
      case 'block': return this.fail(`{{${token.type}}} is not supported in runbooks`);
      default: break;
    }
    this.backup();
    const action: ActionNode = { kind: 'action', pos: this.peek().pos, pipe: this.pipeline('command', 'rightDelim') };
    return action;
  }

  private loopControl(token: Token): LoopControlNode {
    const kind = token.type === 'break' ? 'break' : 'continue';
    const next = this.nextNonSpace();
    if (next.type !== 'rightDelim') this.unexpected(next, `{{${kind}}}`);
    if (this.rangeDepth === 0) this.fail(`{{${kind}}} outside {{range}}`);
    return { kind, pos: token.pos };
  }

  private elseControl(): ListEnd {
    const peek = this.peekNonSpace();
    // "{{else if …" and "{{else with …" act as "{{else}}{{if …"; the if/with stays pending.
    if (peek.type === 'if' || peek.type === 'with') return { kind: 'else', pos: peek.pos };
    return { kind: 'else', pos: this.expect('rightDelim', 'else').pos };
  }

  private branchControl(kind: BranchNode['kind']): BranchNode {
    this.enter();
    const savedVars = this.vars.length;
    const pipe = this.pipeline(kind, 'rightDelim');
    if (kind === 'range') this.rangeDepth++;
    let { list, end } = this.itemList();
    if (kind === 'range') this.rangeDepth--;
    let elseList: ListNode | undefined;
    if (end.kind === 'else') {
      const chained = this.peek().type;
      if ((kind === 'if' && chained === 'if') || (kind === 'with' && chained === 'with')) {
        this.next();
        // The chained if/with consumes the single {{end}} of the whole chain.
        elseList = { kind: 'list', pos: end.pos, nodes: [this.branchControl(kind)] };
      } else {
        ({ list: elseList, end } = this.itemList());
        if (end.kind !== 'end') this.fail(`expected end; found {{${end.kind}}}`);
      }
    }
    this.vars.length = savedVars;
    this.depth--;
    return { kind, pos: pipe.pos, pipe, list, elseList };
  }

  private pipeline(context: string, end: 'rightDelim' | 'rightParen'): PipeNode {
    const decl: VariableNode[] = [];
    let isAssign = false;
    const pos = this.peekNonSpace().pos;
    for (;;) {
      const variable = this.peekNonSpace();
      if (variable.type !== 'variable') break;
      this.next();
      const afterVariable = this.peek();
      const next = this.peekNonSpace();
      if (next.type === 'assign' || next.type === 'declare') {
        isAssign = next.type === 'assign';
        this.nextNonSpace();
        decl.push({ kind: 'variable', pos: variable.pos, ident: [variable.val] });
        this.vars.push(variable.val);
        break;
      }
      if (next.type === 'char' && next.val === ',') {
        this.nextNonSpace();
        decl.push({ kind: 'variable', pos: variable.pos, ident: [variable.val] });
        this.vars.push(variable.val);
        if (context === 'range' && decl.length < 2) {
          const following = this.peekNonSpace().type;
          if (following === 'variable' || following === 'rightDelim' || following === 'rightParen') continue;
          this.fail('range can only initialize variables');
        }
        this.fail(`too many declarations in ${context}`);
      }
      // Not a declaration: the variable is the first operand.
      this.backup(afterVariable.type === 'space' ? 2 : 1);
      break;
    }
    const cmds: CommandNode[] = [];
    for (;;) {
      const token = this.nextNonSpace();
      if (token.type === end) {
        this.checkPipeline(cmds, context);
        return { kind: 'pipe', pos, isAssign, decl, cmds };
      }
      switch (token.type) {
        case 'bool': case 'charConstant': case 'dot': case 'field': case 'identifier': case 'number':
        case 'nil': case 'rawString': case 'string': case 'variable': case 'leftParen':
          this.backup();
          cmds.push(this.command());
          break;
        default:
          this.unexpected(token, context);
      }
    }
  }

  private checkPipeline(cmds: readonly CommandNode[], context: string): void {
    if (cmds.length === 0) this.fail(`missing value for ${context}`);
    cmds.slice(1).forEach((cmd, i) => {
      const kind = cmd.args[0]?.kind;
      if (kind === 'bool' || kind === 'dot' || kind === 'nil' || kind === 'number' || kind === 'string') {
        this.fail(`non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  private command(): CommandNode {
    const cmd: CommandNode = { kind: 'command', pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const token = this.next();
      if (token.type === 'space') continue;
      if (token.type === 'rightDelim' || token.type === 'rightParen') this.backup();
      else if (token.type !== 'pipe') this.unexpected(token, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.fail('empty command');
    return cmd;
  }

  private operand(): ArgNode | undefined {
    const node = this.term();
    if (!node || this.peek().type !== 'field') return node;
    const pos = this.peek().pos;
    const fields: string[] = [];
    while (this.peek().type === 'field') fields.push(this.next().val.slice(1));
    switch (node.kind) {
      case 'field': return { kind: 'field', pos, ident: [...node.ident, ...fields] };
      case 'variable': return { kind: 'variable', pos, ident: [...node.ident, ...fields] };
      case 'bool': case 'string': case 'number': case 'nil': case 'dot':
        return this.fail(`unexpected . after term ${goQuote(nodeToString(node))}`);
      default: return { kind: 'chain', pos, node, field: fields };
    }
  }

  private term(): ArgNode | undefined {
    const token = this.nextNonSpace();
    switch (token.type) {
      case 'identifier': {
        const fn = FUNCTIONS.get(token.val);
        if (!fn) this.fail(`function ${goQuote(token.val)} not defined`);
        return { kind: 'identifier', pos: token.pos, name: token.val, fn };
      }
      case 'dot': return { kind: 'dot', pos: token.pos };
      case 'nil': return { kind: 'nil', pos: token.pos };
      case 'variable': return this.useVariable(token);
      case 'field': return { kind: 'field', pos: token.pos, ident: [token.val.slice(1)] };
      case 'bool': return { kind: 'bool', pos: token.pos, value: token.val === 'true' };
      case 'charConstant':
      case 'number':
        return { kind: 'number', pos: token.pos, text: token.val, value: this.literal(() => parseNumberLiteral(token.val, token.type === 'charConstant')) };
      case 'leftParen': {
        this.enter();
        const pipe = this.pipeline('parenthesized pipeline', 'rightParen');
        this.depth--;
        return pipe;
      }
      case 'string':
      case 'rawString':
        return { kind: 'string', pos: token.pos, quoted: token.val, text: this.literal(() => unquoteString(token.val)) };
      default:
        this.backup();
        return undefined;
    }
  }

  private literal<T>(read: () => T): T {
    try {
      return read();
    } catch (error) {
      return this.fail(error instanceof Error ? error.message : String(error));
    }
  }

  private useVariable(token: Token): VariableNode {
    if (!this.vars.includes(token.val)) this.fail(`undefined variable ${goQuote(token.val)}`);
    return { kind: 'variable', pos: token.pos, ident: [token.val] };
  }
}

/** Parses template source (see bytes.ts for how it was decoded); throws TemplateError. */
export function parseTemplate(source: string): ListNode {
  return new Parser(tokenize(source)).parse();
}
