import { Type, type Static } from 'typebox';
import { StringMap } from '../http/schemas.js';

export const RunbookRepositoryInput = Type.Object({
  git_url: Type.String({ description: 'https://, http://, ssh://, git@host:path, git://, file:// or an absolute path' }),
  git_branch: Type.Optional(Type.String({ description: 'Branch to read; default: the remote default branch, else main, else master' })),
  path_prefix: Type.Optional(Type.String({ description: 'Only files under this path are runbooks of this repository' })),
  git_user: Type.Optional(Type.String({ description: 'HTTP user; "oauth2" when only a password is set' })),
  git_password: Type.Optional(Type.String({ description: 'HTTP password or token (write-only: read back as "*****")' })),
  ssh_key: Type.Optional(Type.String({ description: 'SSH private key (write-only)' })),
  ssh_user: Type.Optional(Type.String({ description: 'SSH user; default git' })),
  ssh_keypass: Type.Optional(Type.String({ description: 'SSH key passphrase (write-only)' })),
  ssh_known_hosts: Type.Optional(Type.String({ description: 'known_hosts lines, raw or base64' })),
  git_hook_ttl: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type RunbookRepositoryInput = Static<typeof RunbookRepositoryInput>;

export const RunbookRepositoryView = Type.Object(
  {
    repository: Type.String({ description: 'The normalized name: host/path' }),
    git_url: Type.String(),
    git_branch: Type.String(),
    path_prefix: Type.String(),
    git_user: Type.String(),
    git_password: Type.String({ description: '"*****" when set, else ""' }),
    ssh_key: Type.String({ description: '"*****" when set, else ""' }),
    ssh_user: Type.String(),
    ssh_keypass: Type.String({ description: '"*****" when set, else ""' }),
    ssh_known_hosts: Type.String(),
    git_hook_ttl: Type.Integer(),
  },
  { $id: 'RunbookRepository' },
);
export type RunbookRepositoryView = Static<typeof RunbookRepositoryView>;

export const RunbookConfigurationView = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    org_id: Type.String(),
    repositories: Type.Array(Type.Ref('RunbookRepository')),
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  { $id: 'RunbookConfiguration' },
);
export type RunbookConfigurationView = Static<typeof RunbookConfigurationView>;

export const ParameterMetadata = Type.Object(
  {
    type: Type.String(),
    required: Type.Boolean(),
    description: Type.String(),
    default: Type.Optional(Type.String()),
    placeholder: Type.Optional(Type.String()),
    minlength: Type.Optional(Type.String()),
    maxlength: Type.Optional(Type.String()),
    options: Type.Optional(Type.Array(Type.String())),
    asenv: Type.Optional(Type.String()),
    order: Type.Optional(Type.Integer()),
  },
  { $id: 'RunbookParameter' },
);

export const RunbookItem = Type.Object(
  {
    name: Type.String({ description: 'Path of the file in the repository' }),
    metadata: Type.Record(Type.String(), Type.Ref('RunbookParameter')),
    connections: Type.Optional(Type.Array(Type.String())),
    error: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'Runbook' },
);
export type RunbookItem = Static<typeof RunbookItem>;

const commitFields = {
  commit: Type.String(),
  commit_author: Type.String(),
  commit_message: Type.String(),
};

export const RunbookList = Type.Object({ items: Type.Array(Type.Ref('Runbook')), ...commitFields });
export type RunbookList = Static<typeof RunbookList>;

export const RunbookRepositoryList = Type.Object({ repository: Type.String(), items: Type.Array(Type.Ref('Runbook')), ...commitFields });
export type RunbookRepositoryList = Static<typeof RunbookRepositoryList>;

export const RunbookListV2 = Type.Object({
  errors: Type.Array(Type.String()),
  repositories: Type.Array(RunbookRepositoryList),
  items: Type.Array(Type.Ref('Runbook')),
  commit: Type.Optional(Type.String()),
  commit_author: Type.Optional(Type.String()),
  commit_message: Type.Optional(Type.String()),
});
export type RunbookListV2 = Static<typeof RunbookListV2>;

const runParameters = {
  file_name: Type.String({ minLength: 1, description: 'Path of the runbook file in the repository' }),
  ref_hash: Type.Optional(Type.String({ description: 'Commit to read the file at (full or abbreviated hash); default: the branch tip' })),
  parameters: Type.Optional(StringMap),
};

const execFields = {
  ...runParameters,
  env_vars: Type.Optional(StringMap),
  client_args: Type.Optional(Type.Array(Type.String())),
  metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  jira_fields: Type.Optional(StringMap),
  session_batch_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
};

/** `POST /api/plugins/runbooks/connections/{name}/exec`. */
export const RunbookExecV1 = Type.Object({
  ...execFields,
  repository: Type.Optional(Type.String({ description: 'Gatehouse: which repository, when several are configured' })),
});
export type RunbookExecV1 = Static<typeof RunbookExecV1>;

/** `POST /api/runbooks/exec`. */
export const RunbookExecV2 = Type.Object({
  ...execFields,
  connection_name: Type.String({ minLength: 1 }),
  repository: Type.String({ minLength: 1, description: 'The normalized repository name (host/path)' }),
  correlation_id: Type.Optional(Type.String()),
});
export type RunbookExecV2 = Static<typeof RunbookExecV2>;

/** `POST /api/runbooks/render`: the script a run would get, without running it. */
export const RunbookRenderRequest = Type.Object({
  ...runParameters,
  repository: Type.Optional(Type.String({ description: 'Default: the only configured repository' })),
});
export type RunbookRenderRequest = Static<typeof RunbookRenderRequest>;

export const RunbookRenderResponse = Type.Object({
  repository: Type.String(),
  file_name: Type.String(),
  commit: Type.String(),
  script: Type.String({ description: 'The rendered runbook (invalid UTF-8 shown as U+FFFD)' }),
  env_vars: Type.Array(Type.String(), { description: 'Names of the variables the runbook exports (asenv); values are not shown' }),
  metadata: Type.Record(Type.String(), Type.Ref('RunbookParameter')),
});
export type RunbookRenderResponse = Static<typeof RunbookRenderResponse>;
