// Parameter metadata as hoop.dev extracts it (spec §4.3): textually, from Go's canonical re-print
// of each top-level action. The quirks of that approach (splitting on spaces, dropping every ")
// are part of what runbooks and UIs rely on, so they are kept on purpose.
import { nodeToString, type ActionNode, type ListNode } from './ast.js';
import { TemplateError } from './errors.js';

export interface ParameterMetadata {
  type: string;
  required: boolean;
  description: string;
  default?: string;
  placeholder?: string;
  minlength?: string;
  maxlength?: string;
  options?: string[];
  asenv?: string;
  order?: number;
}

const INPUT_TYPES: ReadonlySet<string> = new Set([
  'text', 'number', 'tel', 'time', 'date', 'url', 'email', 'select', 'textarea', 'password', 'file',
]);

const PARAMETER_ACTION = /^\{\{\.([a-zA-Z0-9_]+)/;

type TextAttribute = 'description' | 'default' | 'placeholder' | 'minlength' | 'maxlength' | 'asenv';
const TEXT_ATTRIBUTES: ReadonlySet<string> = new Set<TextAttribute>(['description', 'default', 'placeholder', 'minlength', 'maxlength', 'asenv']);

function isTextAttribute(name: string): name is TextAttribute {
  return TEXT_ATTRIBUTES.has(name);
}

/** Reads the metadata of one re-printed action such as `{{.url | default "x" | required "msg"}}`. */
function actionMetadata(action: string): ParameterMetadata {
  const metadata: ParameterMetadata = { type: 'text', required: false, description: '' };
  for (const section of action.slice(2, -2).split(' | ')) {
    const [name = '', ...words] = section.split(' ');
    const argument = words.join(' ').trim().replaceAll('"', '');
    if (name === 'type') {
      if (INPUT_TYPES.has(argument)) metadata.type = argument;
    } else if (name === 'required') {
      metadata.required = true;
    } else if (name === 'options') {
      metadata.options = argument.split(' ');
    } else if (name === 'order') {
      const order = /^[+-]?\d+$/.test(argument) ? Number(argument) : NaN;
      if (Number.isSafeInteger(order)) metadata.order = order;
    } else if (isTextAttribute(name)) {
      metadata[name] = argument;
    }
  }
  return metadata;
}

/**
 * The values an action's `options` accepts, as written: `options "New York" "Boston"` accepts
 * "New York", where the metadata (split on spaces, as hoop does) lists "New", "York", "Boston".
 */
function optionLiterals(action: ActionNode): string[] | undefined {
  const command = action.pipe.cmds.find((cmd) => cmd.args[0]?.kind === 'identifier' && cmd.args[0].name === 'options');
  return command?.args.slice(1).flatMap((arg) => (arg.kind === 'string' ? [arg.text] : []));
}

export interface ExtractedParameter {
  metadata: ParameterMetadata;
  /** What the server accepts for the parameter when its runbook lists options. */
  allowedValues: string[] | undefined;
}

/**
 * The parameters of a template in order of first appearance, each from its last top-level
 * occurrence. Every top-level action must start with a field (`{{.name …}}`).
 */
export function extractParameters(root: ListNode): Map<string, ExtractedParameter> {
  const parameters = new Map<string, ExtractedParameter>();
  for (const node of root.nodes) {
    if (node.kind !== 'action') continue;
    const action = nodeToString(node);
    const name = PARAMETER_ACTION.exec(action)?.[1];
    if (name === undefined) throw new TemplateError('inconsistent findings, findings=0, val=[]');
    parameters.set(name, { metadata: actionMetadata(action), allowedValues: optionLiterals(node) });
  }
  return parameters;
}
