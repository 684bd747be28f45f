import path from 'node:path';
import { CachedRepository } from './cached-repository.js';
import { GitRepositoryError } from './git-errors.js';
import { isCleanRepositoryPath, type CommitInfo, type TreeFile } from './git-objects.js';
import { LruCache } from './lru-cache.js';
import { repositoryCacheKey, resolveRemoteAccess, type GitRepositorySettings } from './remote-access.js';

export interface GitRepositoriesOptions {
  /** Holds one bare repository per configured repository; created with mode 0700. */
  cacheDir: string;
  /** Bounds every git call, network or local. Default 30 s. */
  fetchTimeoutMs?: number;
  /** How long a fetched branch tip is trusted before fetching again; 0 fetches every time. */
  tipCacheMs: number;
  /** The largest file readFile returns. Default 1,000,000 bytes. */
  maxFileBytes?: number;
  /** The most files a commit may have to be listed. Default 100,000. */
  maxFiles?: number;
}

export interface GitRepositories {
  /** The branch tip, or with `refHash` (7 to 40 hex digits) that commit if it is on the branch. */
  resolveCommit(repo: GitRepositorySettings, refHash?: string): Promise<CommitInfo>;
  /** Every regular file of a commit on the branch (as accepted by resolveCommit). */
  listFiles(repo: GitRepositorySettings, commit: string): Promise<readonly TreeFile[]>;
  /** One file of that commit, by its exact path in the tree. */
  readFile(repo: GitRepositorySettings, commit: string, filePath: string): Promise<Buffer>;
  /**
   * Several files of that commit, read a batch at a time (one git process per batch): each path
   * maps to its content, or to the error readFile would have thrown for it.
   */
  readFiles(repo: GitRepositorySettings, commit: string, filePaths: readonly string[]): Promise<Map<string, Buffer | GitRepositoryError>>;
  /** Forgets cached branch tips: of repositories with this URL, or of all. */
  invalidate(url?: string): void;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_FILE_BYTES = 1_000_000;
const DEFAULT_MAX_FILES = 100_000;
const MAX_CACHED_COMMITS = 10_000;
const MAX_CACHED_TREE_FILES = 1_000_000;
const COMMIT_REF = /^[0-9a-f]{7,40}$/;
/** Bytes of file contents read by one git process (and held at once) in readFiles. */
const READ_BATCH_MAX_BYTES = 16 * 1024 * 1024;

interface BranchTip {
  /** The branch actually fetched: the configured one or the remote's default. */
  branch: string;
  commit: string;
  fetchedAt: number;
}

interface TreeListing {
  files: readonly TreeFile[];
  byPath: Map<string, TreeFile>;
}

/** What is known of one bare repository; its git writes run one at a time through `queue`. */
interface RepositoryState {
  key: string;
  url: string;
  repository: CachedRepository;
  queue: Promise<unknown>;
  /** By configured branch, '' for the remote's default. */
  tips: Map<string, BranchTip>;
  tipFetches: Map<string, Promise<BranchTip>>;
  /** Bumped by invalidate, so a fetch that started before it does not store its tip. */
  generation: number;
}

export function createGitRepositories(options: GitRepositoriesOptions): GitRepositories {
  return new GitRepositoryCache(options);
}

class GitRepositoryCache implements GitRepositories {
  private readonly states = new Map<string, RepositoryState>();
  // Keyed by repository, configured branch and ref: a commit once found on a branch stays valid
  // for the life of the process, since what a hash names never changes.
  private readonly commits = new LruCache<CommitInfo>(MAX_CACHED_COMMITS);
  private readonly trees = new LruCache<TreeListing>(MAX_CACHED_TREE_FILES, (tree) => tree.files.length);
  private readonly timeoutMs: number;
  private readonly maxFileBytes: number;
  private readonly maxFiles: number;

  constructor(private readonly options: GitRepositoriesOptions) {
    this.timeoutMs = options.fetchTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.maxFiles = options.maxFiles ?? DEFAULT_MAX_FILES;
  }

  async resolveCommit(repo: GitRepositorySettings, refHash?: string): Promise<CommitInfo> {
    const state = this.stateFor(repo);
    const branchSetting = this.branchSetting(state, repo);
    if (refHash === undefined || refHash === '') {
      const tip = await this.resolveTip(state, branchSetting);
      return this.verifiedCommit(state, branchSetting, tip.commit, async () => tip.commit);
    }
    const ref = refHash.toLowerCase();
    if (!COMMIT_REF.test(ref)) {
      throw new GitRepositoryError('invalid', `git repository ${state.repository.displayUrl}: ${JSON.stringify(refHash)} is not a commit hash (7 to 40 hex digits)`);
    }
    return this.verifiedCommit(state, branchSetting, ref, async () => {
      const tip = await this.resolveTip(state, branchSetting);
      return this.exclusive(state, () => this.findOnBranch(state, branchSetting, tip, ref));
    });
  }

  async listFiles(repo: GitRepositorySettings, commit: string): Promise<readonly TreeFile[]> {
    return (await this.treeListing(repo, commit)).listing.files;
  }

  async readFile(repo: GitRepositorySettings, commit: string, filePath: string): Promise<Buffer> {
    const { state, hash, listing } = await this.treeListing(repo, commit);
    const file = this.readableFile(state, hash, listing, filePath);
    if (file instanceof GitRepositoryError) throw file;
    return state.repository.readBlob(file);
  }

  async readFiles(repo: GitRepositorySettings, commit: string, filePaths: readonly string[]): Promise<Map<string, Buffer | GitRepositoryError>> {
    const { state, hash, listing } = await this.treeListing(repo, commit);
    const results = new Map<string, Buffer | GitRepositoryError>();
    let batch: TreeFile[] = [];
    let batchBytes = 0;
    const readBatch = async () => {
      const contents = await state.repository.readBlobs(batch);
      batch.forEach((file, index) => results.set(file.path, contents[index]!));
      batch = [];
      batchBytes = 0;
    };
    for (const filePath of filePaths) {
      const file = this.readableFile(state, hash, listing, filePath);
      if (file instanceof GitRepositoryError) {
        results.set(filePath, file);
        continue;
      }
      if (batchBytes + file.size > READ_BATCH_MAX_BYTES && batch.length) await readBatch();
      batch.push(file);
      batchBytes += file.size;
    }
    if (batch.length) await readBatch();
    return results;
  }

  invalidate(url?: string): void {
    for (const state of this.states.values()) {
      if (url !== undefined && state.url !== url) continue;
      state.tips.clear();
      state.tipFetches.clear();
      state.generation += 1;
    }
  }

  /** The tree entry for a path readFile may return, or the error it throws. */
  private readableFile(state: RepositoryState, hash: string, listing: TreeListing, filePath: string): TreeFile | GitRepositoryError {
    const file = isCleanRepositoryPath(filePath) ? listing.byPath.get(filePath) : undefined;
    if (!file) return state.repository.notFound(`file ${JSON.stringify(filePath)} at commit ${hash}`);
    if (file.size > this.maxFileBytes) {
      return new GitRepositoryError(
        'too-large',
        `git repository ${state.repository.displayUrl}: file ${JSON.stringify(filePath)} at commit ${hash} is ${file.size} bytes, more than the ${this.maxFileBytes} allowed`,
      );
    }
    return file;
  }

  private stateFor(repo: GitRepositorySettings): RepositoryState {
    const key = repositoryCacheKey(repo);
    let state = this.states.get(key);
    if (!state) {
      const dir = path.join(this.options.cacheDir, `${key}.git`);
      const repository = new CachedRepository(dir, resolveRemoteAccess(repo), this.timeoutMs);
      state = { key, url: repo.url, repository, queue: Promise.resolve(), tips: new Map(), tipFetches: new Map(), generation: 0 };
      this.states.set(key, state);
    }
    return state;
  }

  private branchSetting(state: RepositoryState, repo: GitRepositorySettings): string {
    const branch = repo.branch ?? '';
    if (branch !== '' && !isValidBranchName(branch)) {
      throw new GitRepositoryError('invalid', `git repository ${state.repository.displayUrl}: ${JSON.stringify(branch)} is not a valid branch name`);
    }
    return branch;
  }

  /** Runs `task` after every earlier git write to this repository has finished. */
  private exclusive<T>(state: RepositoryState, task: () => Promise<T>): Promise<T> {
    const run = state.queue.then(task);
    state.queue = run.catch(() => undefined);
    return run;
  }

  /** The cached tip while fresh, else one fetch shared by everyone asking meanwhile. */
  private resolveTip(state: RepositoryState, branchSetting: string): Promise<BranchTip> {
    const cached = state.tips.get(branchSetting);
    if (cached && Date.now() - cached.fetchedAt < this.options.tipCacheMs) return Promise.resolve(cached);
    let pending = state.tipFetches.get(branchSetting);
    if (!pending) {
      const generation = state.generation;
      const fetch = this.exclusive(state, async () => {
        await state.repository.ensureCreated();
        const branch = branchSetting || (await state.repository.defaultBranch());
        return this.rememberTip(state, branchSetting, generation, branch, await state.repository.fetchBranch(branch, false));
      });
      pending = fetch.finally(() => {
        if (state.tipFetches.get(branchSetting) === pending) state.tipFetches.delete(branchSetting);
      });
      state.tipFetches.set(branchSetting, pending);
    }
    return pending;
  }

  private rememberTip(state: RepositoryState, branchSetting: string, generation: number, branch: string, commit: string): BranchTip {
    const tip = { branch, commit, fetchedAt: Date.now() };
    if (state.generation === generation) state.tips.set(branchSetting, tip);
    return tip;
  }

  /**
   * Finds `ref` among the branch's commits: first in the cache, else after fetching the
   * branch's whole history. A commit of another branch, or unknown to the remote, is not found.
   * Requiring the branch is what the configuration vouches for: a commit pushed elsewhere
   * (an unreviewed branch) cannot be run by naming its hash.
   */
  private async findOnBranch(state: RepositoryState, branchSetting: string, tip: BranchTip, ref: string): Promise<string> {
    const { repository } = state;
    const onBranch = async (tipCommit: string) => {
      const commit = await repository.findCommit(ref);
      return commit !== undefined && (await repository.isAncestor(commit, tipCommit)) ? commit : undefined;
    };
    const cached = await onBranch(tip.commit);
    if (cached) return cached;
    const generation = state.generation;
    const fullTip = await repository.fetchBranch(tip.branch, true);
    this.rememberTip(state, branchSetting, generation, tip.branch, fullTip);
    const fetched = await onBranch(fullTip);
    if (fetched) return fetched;
    throw repository.notFound(`commit "${ref}" on branch "${tip.branch}"`);
  }

  private async verifiedCommit(state: RepositoryState, branchSetting: string, ref: string, find: () => Promise<string>): Promise<CommitInfo> {
    const key = (commitRef: string) => `${state.key}\0${branchSetting}\0${commitRef}`;
    const cached = this.commits.get(key(ref));
    if (cached) return cached;
    const info = await state.repository.commitInfo(await find());
    this.commits.set(key(ref), info);
    this.commits.set(key(info.hash), info);
    return info;
  }

  private async treeListing(repo: GitRepositorySettings, commit: string): Promise<{ state: RepositoryState; hash: string; listing: TreeListing }> {
    const state = this.stateFor(repo);
    // An empty ref would mean the branch tip to resolveCommit; here the caller must name a commit.
    if (commit === '') throw new GitRepositoryError('invalid', `git repository ${state.repository.displayUrl}: no commit given`);
    const { hash } = await this.resolveCommit(repo, commit);
    const key = `${state.key}\0${hash}`;
    let listing = this.trees.get(key);
    if (!listing) {
      const files = await state.repository.listFiles(hash);
      if (files.length > this.maxFiles) {
        throw new GitRepositoryError(
          'too-large',
          `git repository ${state.repository.displayUrl}: commit ${hash} has ${files.length} files, more than the ${this.maxFiles} that can be listed`,
        );
      }
      listing = { files, byPath: new Map(files.map((file) => [file.path, file])) };
      this.trees.set(key, listing);
    }
    return { state, hash, listing };
  }
}

/** git's rules for ref names (check-ref-format), plus no leading "-" so it is never an option. */
function isValidBranchName(name: string): boolean {
  if (name === '@' || name.startsWith('-') || name.startsWith('/') || name.endsWith('/') || name.endsWith('.')) return false;
  if (/[\x00-\x20\x7f~^:?*[\\]|\.\.|@\{|\/\//.test(name)) return false;
  return name.split('/').every((part) => !part.startsWith('.') && !part.endsWith('.lock'));
}
