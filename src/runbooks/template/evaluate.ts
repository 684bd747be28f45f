// Executes a parse tree the way Go's text/template/exec.go does, including where it reports
// errors: the executor tracks the node it is at (Go's s.at) and every error names it as
// `template: :<line>:<col>: executing "" at <node>: <message>`.
import type {
  ArgNode, BodyNode, BranchNode, ChainNode, CommandNode, FieldNode, IdentifierNode, ListNode, Node, PipeNode, VariableNode,
} from './ast.js';
import { nodeToString } from './ast.js';
import { byteLength } from './bytes.js';
import { TemplateError } from './errors.js';
import { formatValue } from './fmt.js';
import { FunctionError, type CallContext, type ParamKind, type TemplateFunction } from './functions.js';
import { GoNumber, isTrue, NO_VALUE, StringMap, typeName, type Value } from './values.js';

const MIB = 1024 * 1024;
export const MAX_OUTPUT_BYTES = 16 * MIB;
export const MAX_RANGE_ITERATIONS = 100_000;
/**
 * All strings functions return in one render, together. Bounds the work of a template that
 * builds large values without printing them (e.g. printf "%01000000d" in a range).
 */
export const MAX_COMPUTED_CHARS = 64 * MIB;

/** What a {{break}} or {{continue}} asks the enclosing range to do. */
type LoopSignal = 'break' | 'continue' | undefined;

/** Go's missingVal: "no value piped in", unlike NO_VALUE, which is a value that is missing. */
type Final = Value | undefined;

interface Variable {
  readonly name: string;
  value: Value;
}

/** The kind of the function's parameter that argument `index` binds to. */
function parameterKind(fn: TemplateFunction, index: number): ParamKind {
  return fn.params[index] ?? fn.variadic ?? 'any';
}

class Execution {
  private readonly chunks: string[] = [];
  private outputBytes = 0;
  private readonly vars: Variable[];
  private node: Node;
  private rangeIterations = 0;
  private computedChars = 0;
  readonly context: CallContext = { envVars: new Map() };

  constructor(private readonly source: string, root: ListNode, data: StringMap) {
    this.vars = [{ name: '$', value: data }];
    this.node = root;
  }

  output(): string {
    return this.chunks.join('');
  }

  private at(node: Node): void {
    this.node = node;
  }

  private fail(message: string): never {
    const node = this.node;
    const lineStart = this.source.lastIndexOf('\n', node.pos - 1) + 1;
    let line = 1;
    for (let i = this.source.indexOf('\n'); i >= 0 && i < node.pos; i = this.source.indexOf('\n', i + 1)) line++;
    const column = byteLength(this.source.slice(lineStart, node.pos));
    let context = nodeToString(node);
    if (byteLength(context) > 20) context = `${Array.from(context).slice(0, 20).join('')}...`;
    throw new TemplateError(`template: :${line}:${column}: executing "" at <${context}>: ${message}`);
  }

  private write(text: string): void {
    this.outputBytes += Buffer.byteLength(text);
    if (this.outputBytes > MAX_OUTPUT_BYTES) throw new TemplateError(`rendered runbook exceeds ${MAX_OUTPUT_BYTES / MIB} MiB`);
    this.chunks.push(text);
  }

  walk(dot: Value, node: ListNode | BodyNode): LoopSignal {
    this.at(node);
    switch (node.kind) {
      case 'list':
        for (const child of node.nodes) {
          const signal = this.walk(dot, child);
          if (signal) return signal;
        }
        return undefined;
      case 'text':
        this.write(node.text);
        return undefined;
      case 'action': {
        // An action that declares variables prints nothing.
        const value = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) {
          this.at(node);
          this.write(typeof value === 'string' ? value : value === NO_VALUE ? '<no value>' : formatValue(value));
        }
        return undefined;
      }
      case 'if':
      case 'with':
        return this.walkIfOrWith(dot, node);
      case 'range':
        return this.walkRange(dot, node);
      case 'break':
      case 'continue':
        return node.kind;
    }
  }

  private walkIfOrWith(dot: Value, node: BranchNode): LoopSignal {
    const mark = this.vars.length;
    const value = this.evalPipeline(dot, node.pipe);
    let signal: LoopSignal;
    if (isTrue(value)) signal = this.walk(node.kind === 'with' ? value : dot, node.list);
    else if (node.elseList) signal = this.walk(dot, node.elseList);
    this.vars.length = mark;
    return signal;
  }

  private walkRange(dot: Value, node: BranchNode): LoopSignal {
    this.at(node);
    const mark = this.vars.length;
    const collection = this.evalPipeline(dot, node.pipe);
    const bodyMark = this.vars.length;
    const { decl, isAssign } = node.pipe;
    const iterate = (key: Value, element: Value): LoopSignal => {
      if (++this.rangeIterations > MAX_RANGE_ITERATIONS) {
        this.fail(`range iterations exceed the limit of ${MAX_RANGE_ITERATIONS}`);
      }
      // With two variables the first gets the key; "$v := " declared them on the stack already.
      const [first, second] = decl;
      if (first && isAssign) this.setVar(first.ident[0] ?? '', second ? key : element);
      if (second && isAssign) this.setVar(second.ident[0] ?? '', element);
      if (first && !isAssign) this.setTopVar(1, element);
      if (second && !isAssign) this.setTopVar(2, key);
      const signal = this.walk(element, node.list);
      this.vars.length = bodyMark;
      return signal;
    };
    let iterated = false;
    if (collection instanceof GoNumber && collection.type !== 'float64') {
      if (decl.length > 1) this.fail(`can't use ${formatValue(collection)} to iterate over more than one variable`);
      for (let i = 0; i < collection.value; i++) {
        iterated = true;
        if (iterate(NO_VALUE, new GoNumber(collection.type, i)) === 'break') break;
      }
    } else if (collection instanceof StringMap) {
      for (const key of collection.sortedKeys) {
        iterated = true;
        if (iterate(key, collection.entries.get(key) ?? '') === 'break') break;
      }
    } else if (collection !== NO_VALUE) {
      this.fail(`range can't iterate over ${formatValue(collection)}`);
    }
    let signal: LoopSignal;
    if (!iterated && node.elseList) signal = this.walk(dot, node.elseList);
    this.vars.length = mark;
    // Like Go, a range absorbs a {{break}} of an enclosing range that runs in its {{else}}.
    return signal === 'break' ? undefined : signal;
  }

  private setVar(name: string, value: Value): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const variable = this.vars[i];
      if (variable?.name === name) {
        variable.value = value;
        return;
      }
    }
    this.fail(`undefined variable: ${name}`);
  }

  private setTopVar(depth: number, value: Value): void {
    const variable = this.vars[this.vars.length - depth];
    if (variable) variable.value = value;
  }

  private varValue(name: string): Value {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const variable = this.vars[i];
      if (variable?.name === name) return variable.value;
    }
    return this.fail(`undefined variable: ${name}`);
  }

  private evalPipeline(dot: Value, pipe: PipeNode): Value {
    this.at(pipe);
    let value: Final;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    const result = value ?? NO_VALUE;
    for (const variable of pipe.decl) {
      const name = variable.ident[0] ?? '';
      if (pipe.isAssign) this.setVar(name, result);
      else this.vars.push({ name, value: result });
    }
    return result;
  }

  private evalCommand(dot: Value, cmd: CommandNode, final: Final): Value {
    const first = cmd.args[0];
    if (!first) return this.fail('empty command');
    switch (first.kind) {
      case 'field': return this.evalFieldNode(dot, first, cmd.args, final);
      case 'chain': return this.evalChainNode(dot, first, cmd.args, final);
      case 'identifier': return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'variable': return this.evalVariableNode(dot, first, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      default: break;
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.kind) {
      case 'bool': return first.value;
      case 'dot': return dot;
      case 'nil': return this.fail('nil is not a command');
      case 'number': return first.value;
      case 'string': return first.text;
    }
  }

  private notAFunction(args: readonly ArgNode[] | undefined, final: Final): void {
    const [first, ...rest] = args ?? [];
    if (first && (rest.length > 0 || final !== undefined)) {
      this.fail(`can't give argument to non-function ${nodeToString(first)}`);
    }
  }

  private evalFieldNode(dot: Value, field: FieldNode, args: readonly ArgNode[] | undefined, final: Final): Value {
    this.at(field);
    return this.evalFieldChain(dot, field.ident, args, final);
  }

  private evalChainNode(dot: Value, chain: ChainNode, args: readonly ArgNode[] | undefined, final: Final): Value {
    this.at(chain);
    if (chain.node.kind === 'nil') this.fail(`indirection through explicit nil in ${nodeToString(chain)}`);
    return this.evalFieldChain(this.evalArg(dot, 'any', chain.node), chain.field, args, final);
  }

  private evalVariableNode(dot: Value, variable: VariableNode, args: readonly ArgNode[] | undefined, final: Final): Value {
    this.at(variable);
    const [name = '', ...fields] = variable.ident;
    const value = this.varValue(name);
    if (fields.length === 0) {
      this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(value, fields, args, final);
  }

  /** Reads .a.b.c from `receiver`; only the last field sees the command's arguments. */
  private evalFieldChain(receiver: Value, fields: readonly string[], args: readonly ArgNode[] | undefined, final: Final): Value {
    let value = receiver;
    for (let i = 0; i < fields.length; i++) {
      const last = i === fields.length - 1;
      value = this.evalField(fields[i] ?? '', last ? args : undefined, last ? final : undefined, value);
    }
    return value;
  }

  private evalField(name: string, args: readonly ArgNode[] | undefined, final: Final, receiver: Value): Value {
    // A missing value has no fields, but that is not an error by default (missingkey=default).
    if (receiver === NO_VALUE) return NO_VALUE;
    if (receiver instanceof StringMap) {
      if ((args?.length ?? 0) > 1 || final !== undefined) this.fail(`${name} is not a method but has arguments`);
      return receiver.entries.get(name) ?? NO_VALUE;
    }
    return this.fail(`can't evaluate field ${name} in type ${typeName(receiver)}`);
  }

  private evalFunction(dot: Value, node: IdentifierNode, cmd: Node, args: readonly ArgNode[] | undefined, final: Final): Value {
    this.at(node);
    return this.evalCall(dot, node.fn, node.name, cmd, args?.slice(1) ?? [], final);
  }

  private evalCall(dot: Value, fn: TemplateFunction, name: string, cmd: Node, args: readonly ArgNode[], final: Final): Value {
    const fixed = fn.params.length;
    const count = args.length + (final === undefined ? 0 : 1);
    if (fn.variadic !== undefined) {
      if (count < fixed) this.fail(`wrong number of args for ${name}: want at least ${fixed} got ${args.length}`);
    } else if (count !== fixed) {
      this.fail(`wrong number of args for ${name}: want ${fixed} got ${count}`);
    }
    if (fn.kind !== 'call') {
      // and/or return the first operand that decides, without evaluating the rest.
      let value: Value = NO_VALUE;
      for (const arg of args) {
        value = this.evalArg(dot, 'any', arg);
        if (isTrue(value) === (fn.kind === 'or')) return value;
      }
      return final ?? value;
    }
    const argv: Value[] = [];
    for (let i = 0; i < args.length; i++) argv.push(this.evalArg(dot, parameterKind(fn, i), args[i] as ArgNode));
    if (final !== undefined) argv.push(this.validateType(final, parameterKind(fn, fn.variadic === undefined ? fixed - 1 : count - 1)));
    let result: Value;
    try {
      result = fn.call(argv, this.context);
    } catch (error) {
      if (!(error instanceof FunctionError)) throw error;
      this.at(cmd);
      return this.fail(`error calling ${name}: ${error.message}`);
    }
    if (typeof result === 'string') {
      this.computedChars += result.length;
      if (this.computedChars > MAX_COMPUTED_CHARS) throw new TemplateError(`values computed by the runbook exceed ${MAX_COMPUTED_CHARS / MIB} MiB`);
    }
    return result;
  }

  private evalArg(dot: Value, kind: ParamKind, node: ArgNode): Value {
    this.at(node);
    switch (node.kind) {
      case 'dot': return this.validateType(dot, kind);
      case 'nil':
        if (kind === 'any') return NO_VALUE;
        return this.fail('cannot assign nil to string');
      case 'field': return this.validateType(this.evalFieldNode(dot, node, [node], undefined), kind);
      case 'variable': return this.validateType(this.evalVariableNode(dot, node, undefined, undefined), kind);
      case 'pipe': return this.validateType(this.evalPipeline(dot, node), kind);
      case 'identifier': return this.validateType(this.evalFunction(dot, node, node, undefined, undefined), kind);
      case 'chain': return this.validateType(this.evalChainNode(dot, node, undefined, undefined), kind);
      case 'string': return node.text;
      case 'bool':
      case 'number':
        if (kind === 'string') return this.fail(`expected string; found ${nodeToString(node)}`);
        return node.value;
    }
  }

  private validateType(value: Value, kind: ParamKind): Value {
    if (kind === 'any') return value;
    if (value === NO_VALUE) return this.fail('invalid value; expected string');
    if (typeof value !== 'string') return this.fail(`wrong type for value; expected string; got ${typeName(value)}`);
    return value;
  }
}

export interface ExecutionResult {
  output: string;
  /** 'envvar:KEY' -> base64, in the order asenv first recorded them. */
  envVars: Map<string, string>;
}

/** Runs a parsed template over the parameters (Go's map[string]string data). */
export function execute(root: ListNode, source: string, data: ReadonlyMap<string, string>): ExecutionResult {
  const map = new StringMap(data);
  const execution = new Execution(source, root, map);
  execution.walk(map, root);
  return { output: execution.output(), envVars: execution.context.envVars };
}
