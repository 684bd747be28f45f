import { BadRequestError, ForbiddenError, NotFoundError, UpstreamError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { GitRepositoryError, type CommitInfo, type GitRepositories, type GitRepositorySettings } from '../../runbooks/git/index.js';
import {
  isRunbookFileName,
  parseRunbook,
  renderRunbook,
  TemplateError,
  type ParameterMetadata,
  type ParsedRunbook,
} from '../../runbooks/template/index.js';
import type { Identity } from '../auth/identity.js';
import type { ConnectionService } from '../connections/connection-service.js';
import type { ConnectionRecord } from '../connections/connection-types.js';
import type { ExecResult } from '../sessions/session-types.js';
import { coerceMetadata, originOf, validateCorrelationId, type SessionService } from '../sessions/session-service.js';
import { createTtlCache } from '../ttl-cache.js';
import type { ConfiguredRepository, RunbookConfigService } from './runbook-config-service.js';
import type {
  RunbookExecV1,
  RunbookExecV2,
  RunbookItem,
  RunbookList,
  RunbookListV2,
  RunbookRenderRequest,
  RunbookRenderResponse,
  RunbookRepositoryList,
} from './runbook-types.js';

/** The reference's limit: exactly 1,000,000 bytes is allowed. */
export const RUNBOOK_MAX_BYTES = 1_000_000;
/** Parsed runbooks are kept by commit (never stale); only small ones, so the cache stays small. */
const PARSED_CACHE_ENTRIES = 2000;
const PARSED_CACHE_MAX_SOURCE_BYTES = 64 * 1024;

export interface RunbookServiceDeps {
  config: Pick<RunbookConfigService, 'repositories'>;
  git: Pick<GitRepositories, 'resolveCommit' | 'listFiles' | 'readFile' | 'readFiles'>;
  connections: Pick<ConnectionService, 'find' | 'list'>;
  sessions: Pick<SessionService, 'start'>;
  log: Logger;
}

interface RunbookRun {
  connectionName: string;
  repository: string | undefined;
  request: RunbookExecV1 | RunbookExecV2;
  correlationId: string | undefined;
}

function gitSettings(repo: ConfiguredRepository): GitRepositorySettings {
  return {
    url: repo.gitUrl,
    branch: repo.gitBranch || undefined,
    httpUser: repo.gitUser || undefined,
    httpPassword: repo.secrets.git_password,
    sshKey: repo.secrets.ssh_key,
    sshUser: repo.sshUser || undefined,
    sshKeyPassphrase: repo.secrets.ssh_keypass,
    sshKnownHosts: repo.sshKnownHosts || undefined,
  };
}

/** A path inside the repository's prefix: the only files that are this repository's runbooks. */
function underPrefix(repo: ConfiguredRepository, path: string): boolean {
  if (!repo.pathPrefix) return true;
  const prefix = repo.pathPrefix.endsWith('/') ? repo.pathPrefix : `${repo.pathPrefix}/`;
  return path.startsWith(prefix);
}

/** Parameter values as recorded in the session's labels: file contents and passwords are not. */
function recordedParameters(parameters: Record<string, string>, metadata: Record<string, ParameterMetadata>): string {
  const shown: Record<string, string> = {};
  for (const [name, value] of Object.entries(parameters)) {
    const type = metadata[name]?.type;
    if (type === 'file') shown[name] = `[param redacted. type = file, size = ${Buffer.byteLength(value)} byte(s)]`;
    else if (type === 'password') shown[name] = '[param redacted. type = password]';
    else shown[name] = value;
  }
  return JSON.stringify(shown);
}

export function createRunbookService(deps: RunbookServiceDeps) {
  const parsedCache = createTtlCache<ParsedRunbook>(Number.POSITIVE_INFINITY, PARSED_CACHE_ENTRIES);

  /** Git failures as API errors: what is missing is a 404, an unreachable repository a 502. */
  async function fromGit<T>(repo: ConfiguredRepository, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof GitRepositoryError)) throw error;
      if (error.kind === 'not-found') throw new NotFoundError(error.message);
      if (error.kind === 'too-large') throw new BadRequestError(error.message);
      throw new UpstreamError(`failed fetching runbook repository ${repo.repository}: ${error.message}`);
    }
  }

  const parsedKey = (repo: ConfiguredRepository, commit: string, path: string) => `${repo.repository}\0${commit}\0${path}`;

  function parseAndCache(key: string, source: Buffer): ParsedRunbook {
    const parsed = parseRunbook(source);
    if (source.length <= PARSED_CACHE_MAX_SOURCE_BYTES) parsedCache.set(key, parsed);
    return parsed;
  }

  async function loadParsed(repo: ConfiguredRepository, commit: string, path: string): Promise<ParsedRunbook> {
    const key = parsedKey(repo, commit, path);
    return parsedCache.get(key) ?? parseAndCache(key, await deps.git.readFile(gitSettings(repo), commit, path));
  }

  /** A listing item: the file's parameters, or why it has none. */
  function itemOf(file: { path: string; size: number }, parsed: () => ParsedRunbook, connections: string[] | undefined): RunbookItem {
    const item: RunbookItem = { name: file.path, metadata: {}, error: null };
    if (connections) item.connections = connections;
    if (file.size > RUNBOOK_MAX_BYTES) {
      item.error = 'max template size [1000 KB] reached';
      return item;
    }
    try {
      item.metadata = parsed().parameters;
    } catch (error) {
      if (error instanceof TemplateError) item.error = `template parse error: ${error.message}`;
      else if (error instanceof GitRepositoryError) item.error = error.message;
      else throw error;
    }
    return item;
  }

  async function listRepository(repo: ConfiguredRepository, connections: string[] | undefined): Promise<RunbookRepositoryList> {
    const settings = gitSettings(repo);
    const commit = await deps.git.resolveCommit(settings);
    const files = (await deps.git.listFiles(settings, commit.hash)).filter((f) => underPrefix(repo, f.path) && isRunbookFileName(f.path));
    const parsed = new Map<string, ParsedRunbook>();
    const unread: string[] = [];
    for (const file of files) {
      if (file.size > RUNBOOK_MAX_BYTES) continue;
      const cached = parsedCache.get(parsedKey(repo, commit.hash, file.path));
      if (cached) parsed.set(file.path, cached);
      else unread.push(file.path);
    }
    // Files not parsed yet at this commit are read together, one git process per batch.
    const sources = unread.length ? await deps.git.readFiles(settings, commit.hash, unread) : new Map<string, Buffer | Error>();
    const parsedOf = (path: string) => {
      const source = sources.get(path);
      if (source instanceof Error) throw source;
      return parsed.get(path) ?? parseAndCache(parsedKey(repo, commit.hash, path), source!);
    };
    const items = files.map((file) => itemOf(file, () => parsedOf(file.path), connections));
    return { repository: repo.repository, commit: commit.hash, commit_author: commit.author, commit_message: commit.message, items };
  }

  /** Connections the identity may run runbooks on: those it may use, with runbooks enabled. */
  async function runbookConnections(identity: Identity): Promise<string[]> {
    const all = await deps.connections.list({}, identity);
    return all.filter((c) => c.access_mode_runbooks !== 'disabled').map((c) => c.name);
  }

  async function findRepository(repository: string): Promise<ConfiguredRepository> {
    const repo = (await deps.config.repositories()).find((r) => r.repository === repository);
    if (!repo) throw new BadRequestError(`runbook repository config ${repository} not found`);
    return repo;
  }

  /**
   * The repository holding `fileName`: the named one, else the only one, else the first (in
   * configuration order) whose branch tip has the file.
   */
  async function locate(repository: string | undefined, fileName: string): Promise<ConfiguredRepository> {
    if (repository) return findRepository(repository);
    const repos = await deps.config.repositories();
    if (repos.length === 1) return repos[0]!;
    for (const repo of repos) {
      const settings = gitSettings(repo);
      const commit = await fromGit(repo, () => deps.git.resolveCommit(settings));
      const files = await fromGit(repo, () => deps.git.listFiles(settings, commit.hash));
      if (files.some((f) => f.path === fileName)) return repo;
    }
    throw new NotFoundError(`runbook file ${fileName} not found on git repo`);
  }

  /** Reads and renders a runbook at the branch tip or at `refHash`. */
  async function render(repo: ConfiguredRepository, fileName: string, refHash: string | undefined, parameters: Record<string, string>) {
    if (!underPrefix(repo, fileName)) throw new NotFoundError(`runbook file ${fileName} not found`);
    const commit: CommitInfo = await fromGit(repo, () => deps.git.resolveCommit(gitSettings(repo), refHash || undefined));
    let parsed: ParsedRunbook;
    try {
      parsed = await fromGit(repo, () => loadParsed(repo, commit.hash, fileName));
    } catch (error) {
      if (error instanceof NotFoundError) throw new NotFoundError(`runbook file ${fileName} not found on git repo`);
      if (error instanceof TemplateError) throw new BadRequestError(error.message);
      throw error;
    }
    try {
      return { commit, rendered: renderRunbook(parsed, parameters) };
    } catch (error) {
      if (error instanceof TemplateError) throw new BadRequestError(error.message);
      throw error;
    }
  }

  async function run(identity: Identity, userAgent: string | undefined, runbook: RunbookRun): Promise<{ status: 200 | 202; body: ExecResult }> {
    const { request } = runbook;
    const metadata = coerceMetadata(request.metadata);
    validateCorrelationId(runbook.correlationId);
    const connection: ConnectionRecord | undefined = await deps.connections.find(runbook.connectionName, identity);
    if (!connection) throw new NotFoundError('connection not found');
    if (connection.accessModeRunbooks === 'disabled') throw new ForbiddenError('runbooks are disabled for this connection');
    const repo = await locate(runbook.repository, request.file_name);
    const parameters = request.parameters ?? {};
    const { commit, rendered } = await render(repo, request.file_name, request.ref_hash, parameters);
    return deps.sessions.start(identity, {
      connection,
      script: rendered.script,
      clientArgs: request.client_args ?? [],
      // The runbook's own exports (asenv) win over the request's; connection secrets win over both.
      envVars: { ...(request.env_vars ?? {}), ...rendered.envVars },
      labels: {
        runbookRepository: repo.repository,
        runbookFile: request.file_name,
        runbookCommit: commit.hash,
        runbookParameters: recordedParameters(parameters, rendered.parameters),
      },
      metadata,
      origin: originOf(userAgent) === 'webapp' ? 'webapp' : 'runbooks',
      sessionBatchId: request.session_batch_id ?? null,
      correlationId: runbook.correlationId || null,
    });
  }

  return {
    /** `GET /api/runbooks`: every repository; one that fails is reported in `errors`. */
    async listV2(
      identity: Identity,
      query: { connectionName?: string; listConnections: boolean; removeEmptyConnections: boolean },
    ): Promise<RunbookListV2> {
      const repos = await deps.config.repositories();
      const connections = query.connectionName ? [query.connectionName] : await runbookConnections(identity);
      const result: RunbookListV2 = { errors: [], repositories: [], items: [] };
      if (query.removeEmptyConnections && connections.length === 0) return result;
      for (const repo of repos) {
        try {
          const list = await listRepository(repo, query.listConnections ? connections : undefined);
          result.repositories.push(list);
          result.items.push(...list.items);
        } catch (error) {
          if (!(error instanceof GitRepositoryError)) throw error;
          result.errors.push(`failed listing runbooks for repo ${repo.repository}, err=${error.message}`);
        }
      }
      const first = result.repositories[0];
      if (first) Object.assign(result, { commit: first.commit, commit_author: first.commit_author, commit_message: first.commit_message });
      return result;
    },

    /** `GET /api/plugins/runbooks/templates` and `…/connections/{name}/templates`. */
    async listV1(identity: Identity, connectionName: string | undefined): Promise<RunbookList> {
      let connections: string[] | undefined;
      if (connectionName) {
        const connection = await deps.connections.find(connectionName, identity);
        if (!connection) throw new NotFoundError('connection not found');
      } else {
        connections = await runbookConnections(identity);
      }
      const lists: RunbookRepositoryList[] = [];
      for (const repo of await deps.config.repositories()) {
        lists.push(await fromGit(repo, () => listRepository(repo, connections)));
      }
      const first = lists[0];
      return {
        items: lists.flatMap((l) => l.items),
        commit: first?.commit ?? '',
        commit_author: first?.commit_author ?? '',
        commit_message: first?.commit_message ?? '',
      };
    },

    async preview(request: RunbookRenderRequest): Promise<RunbookRenderResponse> {
      const repo = await locate(request.repository, request.file_name);
      const { commit, rendered } = await render(repo, request.file_name, request.ref_hash, request.parameters ?? {});
      return {
        repository: repo.repository,
        file_name: request.file_name,
        commit: commit.hash,
        script: rendered.script.toString('utf8'),
        env_vars: Object.keys(rendered.envVars).map((key) => key.replace(/^envvar:/, '')),
        metadata: rendered.parameters,
      };
    },

    execV1(identity: Identity, connectionName: string, request: RunbookExecV1, userAgent: string | undefined) {
      return run(identity, userAgent, { connectionName, repository: request.repository, request, correlationId: undefined });
    },

    execV2(identity: Identity, request: RunbookExecV2, userAgent: string | undefined) {
      return run(identity, userAgent, {
        connectionName: request.connection_name,
        repository: request.repository,
        request,
        correlationId: request.correlation_id,
      });
    },
  };
}

export type RunbookService = ReturnType<typeof createRunbookService>;
