import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { GitRepositoryError } from './git-errors.js';
import { localGitEnvironment, prepareNetworkEnvironment } from './git-environment.js';
import { COMMIT_INFO_FORMAT, parseCommitInfo, parseTreeListing, type CommitInfo, type TreeFile } from './git-objects.js';
import { runGit, type GitOutcome } from './git-process.js';
import type { RemoteAccess } from './remote-access.js';
import { redactUrlsInText } from './repository-url.js';

const SMALL_OUTPUT_BYTES = 1024 * 1024;
const TREE_LISTING_MAX_BYTES = 64 * 1024 * 1024;
// Lines git adds after every remote failure; they say nothing about what failed.
const BOILERPLATE = /^(Please make sure you have the correct access rights|and the repository exists\.|fatal: Could not read from remote repository\.)$/;
const AUTH_FAILURE =
  /Authentication failed|could not read (Username|Password)|returned error: 40[13]|Access denied|Permission denied|Host key verification failed|passphrase|Load key/i;

/** `<40-hex oid> blob <size>\n`, and the newline after the content. */
const BATCH_HEADER_MAX_BYTES = 64;

type Exited = Extract<GitOutcome, { status: 'exited' }>;

interface LocalOptions {
  gitDir?: boolean;
  maxStdoutBytes?: number;
  input?: Buffer;
}

/**
 * One bare repository in the cache and the remote it mirrors. It holds no lock: the caller
 * runs whatever writes to it (creating, fetching) one at a time; reads may run alongside.
 */
export class CachedRepository {
  constructor(
    private readonly dir: string,
    private readonly access: RemoteAccess,
    private readonly timeoutMs: number,
  ) {}

  get displayUrl(): string {
    return this.access.displayUrl;
  }

  notFound(what: string): GitRepositoryError {
    return new GitRepositoryError('not-found', `git repository ${this.displayUrl}: ${what} not found`);
  }

  async ensureCreated(): Promise<void> {
    if (existsSync(path.join(this.dir, 'HEAD'))) return;
    await mkdir(path.dirname(this.dir), { recursive: true, mode: 0o700 });
    // Made aside and renamed into place, so an interrupted creation never looks like a repository.
    const staging = `${this.dir}.${randomUUID()}.tmp`;
    await mkdir(staging, { mode: 0o700 });
    try {
      await this.checkedLocal('creating the cache', ['init', '--bare', '--quiet', '--template=', staging], { gitDir: false });
      await rm(this.dir, { recursive: true, force: true });
      await rename(staging, this.dir);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
  }

  /** The remote's HEAD branch, else `main`, else `master`. */
  async defaultBranch(): Promise<string> {
    const listing = await this.network('looking up the default branch', [
      'ls-remote', '--symref', this.access.fetchUrl, 'HEAD', 'refs/heads/main', 'refs/heads/master',
    ]);
    const refs = new Set<string>();
    let headTarget: string | undefined;
    for (const line of listing.toString('utf8').split('\n')) {
      const [value = '', name = ''] = line.split('\t');
      if (value.startsWith('ref: ') && name === 'HEAD') headTarget = value.slice('ref: '.length);
      else if (name !== '') refs.add(name);
    }
    // HEAD may name a branch that does not exist (an unborn default branch): then it is not listed.
    if (headTarget?.startsWith('refs/heads/') && refs.has('HEAD')) return headTarget.slice('refs/heads/'.length);
    const fallback = ['main', 'master'].find((branch) => refs.has(`refs/heads/${branch}`));
    if (fallback === undefined) throw this.notFound('default branch (HEAD, main or master)');
    return fallback;
  }

  /**
   * Fetches a branch into `refs/heads/<branch>` and answers its tip. The first fetch of a branch
   * is shallow (only the tip is needed to list and read files); `fullHistory` fetches everything
   * so ancestry can be checked, and later fetches are incremental.
   */
  async fetchBranch(branch: string, fullHistory: boolean): Promise<string> {
    const ref = `refs/heads/${branch}`;
    let depth: string[] = [];
    if (fullHistory) depth = (await this.isShallow()) ? ['--unshallow'] : [];
    else if ((await this.findCommit(ref)) === undefined) depth = ['--depth=1'];
    const purpose = `fetching ${fullHistory ? 'the history of ' : ''}branch "${branch}"`;
    await this.network(
      purpose,
      ['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--no-recurse-submodules', ...depth, this.access.fetchUrl, `+${ref}:${ref}`],
      (stderr) => (/couldn't find remote ref/.test(stderr) ? this.notFound(`branch "${branch}"`) : undefined),
    );
    const tip = await this.findCommit(ref);
    if (tip === undefined) throw new Error(`git fetch of ${ref} from ${this.displayUrl} left no ref in ${this.dir}`);
    return tip;
  }

  /** The full hash of a commit present in the cache, by ref or (abbreviated) hash. */
  async findCommit(ref: string): Promise<string | undefined> {
    const found = await this.local('resolving a commit', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
    return found.exitCode === 0 ? found.stdout.toString('utf8').trim() : undefined;
  }

  /** Whether `commit` is `tip` or one of its ancestors, as far as the cached history shows. */
  async isAncestor(commit: string, tip: string): Promise<boolean> {
    const answer = await this.local('checking ancestry', ['merge-base', '--is-ancestor', commit, tip]);
    if (answer.exitCode > 1) throw this.localFailure('checking ancestry', answer);
    return answer.exitCode === 0;
  }

  async commitInfo(hash: string): Promise<CommitInfo> {
    const output = await this.checkedLocal(`reading commit ${hash}`, ['log', '-1', COMMIT_INFO_FORMAT, hash, '--']);
    return parseCommitInfo(output.toString('utf8'));
  }

  async listFiles(hash: string): Promise<TreeFile[]> {
    const output = await this.checkedLocal(`listing the files of commit ${hash}`, ['ls-tree', '-r', '-l', '-z', hash], {
      maxStdoutBytes: TREE_LISTING_MAX_BYTES,
    });
    return parseTreeListing(output);
  }

  /** The blob's bytes; its size was checked against the tree listing by the caller. */
  async readBlob(file: TreeFile): Promise<Buffer> {
    return this.checkedLocal(`reading ${file.path}`, ['cat-file', 'blob', file.blob], { maxStdoutBytes: file.size });
  }

  /** Several files' contents from one `git cat-file --batch`, in the order given. */
  async readBlobs(files: readonly TreeFile[]): Promise<Buffer[]> {
    const input = Buffer.from(files.map((file) => `${file.blob}\n`).join(''));
    const expectedBytes = files.reduce((sum, file) => sum + file.size + BATCH_HEADER_MAX_BYTES, 0);
    const output = await this.checkedLocal(`reading ${files.length} files`, ['cat-file', '--batch'], { maxStdoutBytes: expectedBytes, input });
    const contents: Buffer[] = [];
    let offset = 0;
    for (const file of files) {
      // Each object is `<oid> <type> <size>\n<content>\n`.
      const headerEnd = output.indexOf(0x0a, offset);
      const header = headerEnd < 0 ? '' : output.subarray(offset, headerEnd).toString('latin1');
      const size = Number(header.split(' ')[2]);
      if (!header.startsWith(`${file.blob} blob `) || size !== file.size) {
        throw new Error(`git returned an unexpected object for ${file.path} in the repository cache ${this.dir}`);
      }
      contents.push(output.subarray(headerEnd + 1, headerEnd + 1 + size));
      offset = headerEnd + 1 + size + 1;
    }
    return contents;
  }

  private async isShallow(): Promise<boolean> {
    const output = await this.checkedLocal('checking the cache', ['rev-parse', '--is-shallow-repository']);
    return output.toString('utf8').trim() === 'true';
  }

  private async network(
    purpose: string,
    args: string[],
    explainFailure?: (stderr: string) => GitRepositoryError | undefined,
  ): Promise<Buffer> {
    const pinnedKnownHosts = path.join(this.dir, 'gatehouse_known_hosts');
    const { env, dispose } = await prepareNetworkEnvironment(this.access, pinnedKnownHosts);
    let outcome: GitOutcome;
    try {
      outcome = await runGit({ args: [`--git-dir=${this.dir}`, ...args], env, timeoutMs: this.timeoutMs, maxStdoutBytes: SMALL_OUTPUT_BYTES });
    } finally {
      await dispose();
    }
    if (outcome.status !== 'exited') throw this.stopped(purpose, outcome);
    if (outcome.exitCode === 0) return outcome.stdout;
    const stderr = this.scrub(outcome.stderr);
    const explained = explainFailure?.(stderr);
    if (explained) throw explained;
    const detail = failureDetail(stderr);
    if (AUTH_FAILURE.test(stderr)) {
      throw new GitRepositoryError('auth', `git repository ${this.displayUrl}: authentication failed while ${purpose}: ${detail}`);
    }
    throw new GitRepositoryError('unreachable', `git repository ${this.displayUrl} is unreachable (${purpose}): ${detail}`);
  }

  private async local(purpose: string, args: string[], { gitDir = true, maxStdoutBytes = SMALL_OUTPUT_BYTES, input }: LocalOptions = {}): Promise<Exited> {
    const outcome = await runGit({
      args: gitDir ? [`--git-dir=${this.dir}`, ...args] : args,
      env: localGitEnvironment(path.dirname(this.dir)),
      timeoutMs: this.timeoutMs,
      maxStdoutBytes,
      input,
    });
    if (outcome.status !== 'exited') throw this.stopped(purpose, outcome);
    return outcome;
  }

  private async checkedLocal(purpose: string, args: string[], options?: LocalOptions): Promise<Buffer> {
    const outcome = await this.local(purpose, args, options);
    if (outcome.exitCode !== 0) throw this.localFailure(purpose, outcome);
    return outcome.stdout;
  }

  private stopped(purpose: string, outcome: Exclude<GitOutcome, Exited>): Error {
    switch (outcome.status) {
      case 'timed-out':
        return new GitRepositoryError('timeout', `git repository ${this.displayUrl}: ${purpose} timed out after ${this.timeoutMs / 1000} s`);
      case 'too-much-output':
        return new GitRepositoryError('too-large', `git repository ${this.displayUrl}: too much to hold in memory while ${purpose}`);
      case 'not-started':
        return new Error(outcome.stderr);
    }
  }

  /** A failure of the cache itself (disk, corruption), not of the remote: the operator's to fix. */
  private localFailure(purpose: string, outcome: Exited): Error {
    return new Error(`git failed ${purpose} in the repository cache ${this.dir}: ${failureDetail(outcome.stderr)}`);
  }

  private scrub(text: string): string {
    let scrubbed = text;
    for (const secret of this.access.secrets) scrubbed = scrubbed.split(secret).join('*****');
    return redactUrlsInText(scrubbed);
  }
}

/** The last few meaningful lines of git's messages, on one line. */
function failureDetail(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !BOILERPLATE.test(line))
    .map((line) => line.replace(/^(fatal|error): /, ''));
  const detail = lines.slice(-3).join('; ') || 'git failed without a message';
  return detail.length > 400 ? `${detail.slice(0, 400)}…` : detail;
}
