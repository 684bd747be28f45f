/** Runbook repositories read with the system git: list a commit's files, read one. No HTTP here. */
export { createGitRepositories, type GitRepositories, type GitRepositoriesOptions } from './git-repositories.js';
export { GitRepositoryError, type GitErrorKind } from './git-errors.js';
export type { CommitInfo, TreeFile } from './git-objects.js';
export type { GitRepositorySettings } from './remote-access.js';
export { redactUrl } from './repository-url.js';
