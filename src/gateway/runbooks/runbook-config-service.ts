import { BadRequestError, ConflictError, NotFoundError, ServerConfigurationError, UnprocessableError } from '../../errors.js';
import { normalizeRepositoryUrl, repositoryConfigId, RepositoryUrlError, validateRepositoryUrl } from '../../runbooks/repository-name.js';
import { REDACTED_SECRET } from '../connections/connection-service.js';
import type { Sealer } from '../secrets/sealer.js';
import type { RunbookConfigStore, RunbookRepositoryRecord } from './runbook-config-store.js';
import type { RunbookConfigurationView, RunbookRepositoryInput, RunbookRepositoryView } from './runbook-types.js';
import { UUID } from '../ids.js';

/** The write-only fields of a repository, sealed together at rest. */
interface RepositorySecrets {
  git_password?: string;
  ssh_key?: string;
  ssh_keypass?: string;
}
const SECRET_FIELDS = ['git_password', 'ssh_key', 'ssh_keypass'] as const;
/** A configured repository as the runbook service uses it: with its credentials opened. */
export type ConfiguredRepository = RunbookRepositoryRecord & { secrets: RepositorySecrets };

export interface RunbookConfigServiceDeps {
  store: Pick<RunbookConfigStore, 'load' | 'replaceAll' | 'insert' | 'update' | 'remove'>;
  sealer: Sealer;
  /** Called after every change, so cached repository state is dropped. */
  onChange(): void;
}

export function createRunbookConfigService(deps: RunbookConfigServiceDeps) {
  function openSecrets(sealed: Buffer | null): RepositorySecrets {
    if (!sealed) return {};
    try {
      return JSON.parse(deps.sealer.open(sealed).toString('utf8')) as RepositorySecrets;
    } catch {
      throw new ServerConfigurationError(
        'the credentials of the runbook repositories cannot be decrypted: GATEHOUSE_SECRET_KEY is not the key they were stored with',
      );
    }
  }

  /**
   * The record for an input; a secret sent back as the redacted value keeps what `previous`
   * stores, and an absent or empty one is removed.
   */
  function toRecord(input: RunbookRepositoryInput, previous: RunbookRepositoryRecord | undefined): RunbookRepositoryRecord {
    try {
      validateRepositoryUrl(input.git_url);
    } catch (error) {
      if (error instanceof RepositoryUrlError) throw new UnprocessableError(`invalid git url, reason=${error.message}`);
      throw error;
    }
    const stored = previous ? openSecrets(previous.secretsSealed) : {};
    const secrets: RepositorySecrets = {};
    for (const field of SECRET_FIELDS) {
      const value = input[field];
      if (value === REDACTED_SECRET) {
        if (stored[field] === undefined) {
          throw new UnprocessableError(`${field} has the redacted value but nothing is stored for this repository`);
        }
        secrets[field] = stored[field];
      } else if (value) {
        secrets[field] = value;
      }
    }
    const pathPrefix = (input.path_prefix ?? '').replace(/^\/+/, '');
    if (pathPrefix.split('/').includes('..')) throw new UnprocessableError('path_prefix must not contain ".."');
    return {
      id: repositoryConfigId(input.git_url),
      repository: normalizeRepositoryUrl(input.git_url),
      gitUrl: input.git_url,
      gitBranch: input.git_branch ?? '',
      pathPrefix,
      gitUser: input.git_user ?? '',
      sshUser: input.ssh_user ?? '',
      sshKnownHosts: input.ssh_known_hosts ?? '',
      gitHookTtl: input.git_hook_ttl ?? 0,
      secretsSealed: Object.keys(secrets).length ? deps.sealer.seal(Buffer.from(JSON.stringify(secrets))) : null,
    };
  }

  function view(record: RunbookRepositoryRecord): RunbookRepositoryView {
    const secrets = openSecrets(record.secretsSealed);
    const shown = (field: (typeof SECRET_FIELDS)[number]) => (secrets[field] ? REDACTED_SECRET : '');
    return {
      repository: record.repository,
      git_url: record.gitUrl,
      git_branch: record.gitBranch,
      path_prefix: record.pathPrefix,
      git_user: record.gitUser,
      git_password: shown('git_password'),
      ssh_key: shown('ssh_key'),
      ssh_user: record.sshUser,
      ssh_keypass: shown('ssh_keypass'),
      ssh_known_hosts: record.sshKnownHosts,
      git_hook_ttl: record.gitHookTtl,
    };
  }

  async function load() {
    const configuration = await deps.store.load();
    if (!configuration) throw new NotFoundError('runbook configuration not found');
    return configuration;
  }

  async function findById(id: string): Promise<RunbookRepositoryRecord | undefined> {
    const configuration = await deps.store.load();
    return configuration?.repositories.find((r) => r.id === id.toLowerCase());
  }

  async function get(): Promise<RunbookConfigurationView> {
    const configuration = await load();
    return {
      id: configuration.id,
      org_id: '',
      repositories: configuration.repositories.map(view),
      created_at: configuration.createdAt.toISOString(),
      updated_at: configuration.updatedAt.toISOString(),
    };
  }

  return {
    get,

    /** Replaces every repository (`PUT /api/runbooks/configurations`). */
    async replace(inputs: RunbookRepositoryInput[]): Promise<RunbookConfigurationView> {
      const existing = (await deps.store.load())?.repositories ?? [];
      const records = inputs.map((input) =>
        toRecord(input, existing.find((r) => r.repository === normalizeRepositoryUrl(input.git_url))),
      );
      if (new Set(records.map((r) => r.repository)).size !== records.length) {
        throw new BadRequestError('duplicate git repository URLs are not allowed');
      }
      await deps.store.replaceAll(records);
      deps.onChange();
      return get();
    },

    async create(input: RunbookRepositoryInput): Promise<RunbookRepositoryView> {
      const record = toRecord(input, undefined);
      if (!(await deps.store.insert(record))) throw new ConflictError('resource already exists');
      deps.onChange();
      return view(record);
    },

    /** The id is derived from the URL, so the URL itself cannot change here. */
    async update(id: string, input: RunbookRepositoryInput): Promise<RunbookRepositoryView> {
      if (repositoryConfigId(input.git_url) !== id.toLowerCase()) throw new BadRequestError('git url in the path and body do not match');
      const previous = await findById(id);
      if (!previous) throw new NotFoundError('resource not found');
      const record = toRecord(input, previous);
      if (!(await deps.store.update(record))) throw new NotFoundError('resource not found');
      deps.onChange();
      return view(record);
    },

    async remove(id: string): Promise<void> {
      if (!UUID.test(id) || !(await deps.store.remove(id.toLowerCase()))) throw new NotFoundError('resource not found');
      deps.onChange();
    },

    /** Every configured repository, in order, with credentials opened. */
    async repositories(): Promise<ConfiguredRepository[]> {
      const configuration = await load();
      return configuration.repositories.map((record) => ({ ...record, secrets: openSecrets(record.secretsSealed) }));
    },
  };
}

export type RunbookConfigService = ReturnType<typeof createRunbookConfigService>;
