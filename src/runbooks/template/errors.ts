/** A template parse, validation or execution error; the message is the user-facing text. */
export class TemplateError extends Error {
  override name = 'TemplateError';
}

/** Go's parse error format; the template name is always "". */
export function parseError(line: number, message: string): TemplateError {
  return new TemplateError(`template: :${line}: ${message}`);
}
