/**
 * What went wrong with a runbook repository, for the caller to turn into an answer (a missing
 * branch, commit or file is the client's business; the other kinds are the configuration's or
 * the remote's). The message names the repository by its URL without user info and never
 * carries a credential.
 */
export type GitErrorKind = 'unreachable' | 'auth' | 'not-found' | 'too-large' | 'timeout' | 'invalid';

export class GitRepositoryError extends Error {
  constructor(
    readonly kind: GitErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'GitRepositoryError';
  }
}
