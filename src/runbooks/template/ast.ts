// The parse tree, shaped like Go's text/template/parse nodes. `pos` is the node's offset in the
// source string; error messages turn it into Go's line:column.
import type { TemplateFunction } from './functions.js';
import type { GoNumber } from './values.js';

export interface ListNode { readonly kind: 'list'; readonly pos: number; readonly nodes: BodyNode[] }

export type BodyNode = TextNode | ActionNode | BranchNode | LoopControlNode;

export interface TextNode { readonly kind: 'text'; readonly pos: number; readonly text: string }

export interface ActionNode { readonly kind: 'action'; readonly pos: number; readonly pipe: PipeNode }

/** {{if}}, {{with}} and {{range}}: a pipeline, a body and an optional {{else}} body. */
export interface BranchNode {
  readonly kind: 'if' | 'with' | 'range';
  readonly pos: number;
  readonly pipe: PipeNode;
  readonly list: ListNode;
  readonly elseList: ListNode | undefined;
}

export interface LoopControlNode { readonly kind: 'break' | 'continue'; readonly pos: number }

export interface PipeNode {
  readonly kind: 'pipe';
  readonly pos: number;
  /** `$x = …` rather than `$x := …`. */
  readonly isAssign: boolean;
  readonly decl: VariableNode[];
  readonly cmds: CommandNode[];
}

export interface CommandNode { readonly kind: 'command'; readonly pos: number; readonly args: ArgNode[] }

export type ArgNode =
  | FieldNode | VariableNode | ChainNode | IdentifierNode | DotNode | NilNode | BoolNode | NumberNode | StringNode | PipeNode;

/** `.a.b`: ident is ['a', 'b']. */
export interface FieldNode { readonly kind: 'field'; readonly pos: number; readonly ident: string[] }

/** `$x.a`: ident is ['$x', 'a']. */
export interface VariableNode { readonly kind: 'variable'; readonly pos: number; readonly ident: string[] }

/** Fields applied to a term that is not a field or variable, e.g. `(.x).y`. */
export interface ChainNode { readonly kind: 'chain'; readonly pos: number; readonly node: ArgNode; readonly field: string[] }

export interface IdentifierNode {
  readonly kind: 'identifier';
  readonly pos: number;
  readonly name: string;
  readonly fn: TemplateFunction;
}

export interface DotNode { readonly kind: 'dot'; readonly pos: number }
export interface NilNode { readonly kind: 'nil'; readonly pos: number }
export interface BoolNode { readonly kind: 'bool'; readonly pos: number; readonly value: boolean }

export interface NumberNode {
  readonly kind: 'number';
  readonly pos: number;
  readonly text: string;
  /** The value Go gives an untyped constant: int, or float64 when written with . e E. */
  readonly value: GoNumber;
}

export interface StringNode { readonly kind: 'string'; readonly pos: number; readonly quoted: string; readonly text: string }

export type Node = ListNode | BodyNode | PipeNode | CommandNode | ArgNode;

/** Go's canonical re-print of a node (parse.Node.String()). */
export function nodeToString(node: Node): string {
  switch (node.kind) {
    case 'list': return node.nodes.map(nodeToString).join('');
    case 'text': return node.text;
    case 'action': return `{{${nodeToString(node.pipe)}}}`;
    case 'if':
    case 'with':
    case 'range': {
      const elsePart = node.elseList ? `{{else}}${nodeToString(node.elseList)}` : '';
      return `{{${node.kind} ${nodeToString(node.pipe)}}}${nodeToString(node.list)}${elsePart}{{end}}`;
    }
    case 'break':
    case 'continue': return `{{${node.kind}}}`;
    case 'pipe': {
      const decl = node.decl.length > 0
        ? `${node.decl.map(nodeToString).join(', ')}${node.isAssign ? ' = ' : ' := '}`
        : '';
      return decl + node.cmds.map(nodeToString).join(' | ');
    }
    case 'command': return node.args.map((arg) => (arg.kind === 'pipe' ? `(${nodeToString(arg)})` : nodeToString(arg))).join(' ');
    case 'field': return node.ident.map((name) => `.${name}`).join('');
    case 'variable': return node.ident.join('.');
    case 'chain': {
      const base = node.node.kind === 'pipe' ? `(${nodeToString(node.node)})` : nodeToString(node.node);
      return base + node.field.map((name) => `.${name}`).join('');
    }
    case 'identifier': return node.name;
    case 'dot': return '.';
    case 'nil': return 'nil';
    case 'bool': return String(node.value);
    case 'number': return node.text;
    case 'string': return node.quoted;
  }
}
