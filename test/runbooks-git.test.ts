import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createGitRepositories, GitRepositoryError, redactUrl, type GitErrorKind, type GitRepositories } from '../src/runbooks/git/index.js';
import { prepareNetworkEnvironment } from '../src/runbooks/git/git-environment.js';
import { resolveRemoteAccess } from '../src/runbooks/git/remote-access.js';
import { freePort } from './support/cluster.js';
import {
  createTestRepository,
  startGitDaemon,
  startGitHttpServer,
  startSilentServer,
  TEST_AUTHOR,
  type CommitContent,
  type GitDaemon,
  type GitHttpServer,
  type TestRepository,
} from './support/git-server.js';

const execFileAsync = promisify(execFile);

const EXACT_LIMIT = Buffer.alloc(1_000_000, 'a');
const OVER_LIMIT = Buffer.alloc(1_000_001, 'b');
const NOT_UTF8 = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0x0a]);
const FIRST: CommitContent = {
  message: 'first runbooks\n\nwith a body line',
  files: {
    'README.md': 'readme\n',
    'ops/db/cleanup.runbook.sql': 'delete from t where id = {{ .id }};\n',
    'ops/deploy.runbook.sh': 'echo v1\n',
    'exact-limit.bin': EXACT_LIMIT,
    'over-limit.bin': OVER_LIMIT,
    'not-utf8.bin': NOT_UTF8,
    'readme-link': { symlinkTo: 'README.md' },
  },
};
const SECOND: CommitContent = {
  message: 'second',
  files: { 'ops/deploy.runbook.sh': 'echo v2\n', 'ops/new.runbook.py': 'print(1)\n' },
};
const TOKEN = `tok-${randomBytes(12).toString('hex')}`;

async function rejectsWith(promise: Promise<unknown>, kind: GitErrorKind, message?: RegExp): Promise<GitRepositoryError> {
  let caught: unknown;
  await assert.rejects(promise, (error) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof GitRepositoryError, `expected a GitRepositoryError, got ${String(caught)}`);
  assert.equal(caught.kind, kind, caught.message);
  if (message) assert.match(caught.message, message);
  return caught;
}

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

describe('runbook git repositories', () => {
  let root: string;
  let repo: TestRepository;
  let http: GitHttpServer;
  let daemon: GitDaemon;
  let caches = 0;

  /** A fresh instance on its own cache dir, so no test sees another's fetches. */
  function newRepositories(options: { tipCacheMs?: number; fetchTimeoutMs?: number; maxFileBytes?: number; maxFiles?: number } = {}) {
    caches += 1;
    const cacheDir = path.join(root, 'caches', String(caches));
    return { cacheDir, git: createGitRepositories({ cacheDir, tipCacheMs: 0, fetchTimeoutMs: 20_000, ...options }) };
  }

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'gatehouse-git-test-'));
    repo = await createTestRepository(root, 'runbooks', [FIRST, SECOND]);
    http = await startGitHttpServer({ projectRoot: root, user: 'oauth2', password: TOKEN });
    daemon = await startGitDaemon(root);
  });

  after(async () => {
    await http?.close();
    await daemon?.stop();
    await rm(root, { recursive: true, force: true });
  });

  describe('over file:// and a local path', () => {
    let git: GitRepositories;
    let fileUrl: string;
    before(() => {
      git = newRepositories().git;
      fileUrl = `file://${repo.bareDir}`;
    });

    it('resolves the branch tip with its author, message and date', async () => {
      const tip = await git.resolveCommit({ url: fileUrl });
      assert.equal(tip.hash, repo.commits[1]);
      assert.equal(tip.author, TEST_AUTHOR);
      assert.equal(tip.message, 'second');
      assert.ok(!Number.isNaN(Date.parse(tip.date)), tip.date);
    });

    it('lists every regular file with its size, leaving symlinks out', async () => {
      const tip = await git.resolveCommit({ url: fileUrl });
      const files = await git.listFiles({ url: fileUrl }, tip.hash);
      const sizes = Object.fromEntries(files.map((file) => [file.path, file.size]));
      assert.deepEqual(sizes, {
        'README.md': 7,
        'exact-limit.bin': 1_000_000,
        'not-utf8.bin': NOT_UTF8.length,
        'ops/db/cleanup.runbook.sql': 36,
        'ops/deploy.runbook.sh': 8,
        'ops/new.runbook.py': 9,
        'over-limit.bin': 1_000_001,
      });
      for (const file of files) assert.match(file.blob, /^[0-9a-f]{40}$/);
    });

    it('reads files byte for byte, up to exactly the size limit', async () => {
      const tip = await git.resolveCommit({ url: fileUrl });
      assert.equal((await git.readFile({ url: fileUrl }, tip.hash, 'ops/deploy.runbook.sh')).toString(), 'echo v2\n');
      assert.deepEqual(await git.readFile({ url: fileUrl }, tip.hash, 'not-utf8.bin'), NOT_UTF8);
      assert.deepEqual(await git.readFile({ url: fileUrl }, tip.hash, 'exact-limit.bin'), EXACT_LIMIT);
      await rejectsWith(git.readFile({ url: fileUrl }, tip.hash, 'over-limit.bin'), 'too-large', /"over-limit.bin" .* is 1000001 bytes, more than the 1000000 allowed/);
    });

    it('honours a smaller maxFileBytes and a maxFiles', async () => {
      const { git: small } = newRepositories({ maxFileBytes: 7 });
      const tip = await small.resolveCommit({ url: fileUrl });
      assert.equal((await small.readFile({ url: fileUrl }, tip.hash, 'README.md')).length, 7);
      await rejectsWith(small.readFile({ url: fileUrl }, tip.hash, 'ops/deploy.runbook.sh'), 'too-large', /is 8 bytes, more than the 7 allowed/);
      const { git: few } = newRepositories({ maxFiles: 6 });
      await rejectsWith(few.listFiles({ url: fileUrl }, tip.hash), 'too-large', /has 7 files, more than the 6/);
    });

    it('gives the first commit and its content for its hash, full or abbreviated', async () => {
      const [first] = repo.commits;
      for (const ref of [first!, first!.slice(0, 7), first!.slice(0, 12).toUpperCase()]) {
        const commit = await git.resolveCommit({ url: fileUrl }, ref);
        assert.equal(commit.hash, first);
        assert.equal(commit.message, 'first runbooks\n\nwith a body line');
      }
      assert.equal((await git.readFile({ url: fileUrl }, first!, 'ops/deploy.runbook.sh')).toString(), 'echo v1\n');
      const paths = (await git.listFiles({ url: fileUrl }, first!.slice(0, 7))).map((file) => file.path);
      assert.ok(!paths.includes('ops/new.runbook.py'));
    });

    it('answers not found for an unknown commit and invalid for a ref that is not a hash', async () => {
      await rejectsWith(git.resolveCommit({ url: fileUrl }, 'abcdef0123'), 'not-found', /commit "abcdef0123" on branch "main" not found/);
      await rejectsWith(git.resolveCommit({ url: fileUrl }, 'main'), 'invalid', /"main" is not a commit hash/);
      await rejectsWith(git.resolveCommit({ url: fileUrl }, 'abc12'), 'invalid');
      await rejectsWith(git.listFiles({ url: fileUrl }, ''), 'invalid');
    });

    it('never serves a path outside the tree', async () => {
      const tip = await git.resolveCommit({ url: fileUrl });
      const attempts = ['../x', '/etc/passwd', './README.md', 'ops/../README.md', 'ops//deploy.runbook.sh', 'ops\\deploy.runbook.sh',
        'README.md\0', 'ops/', 'ops', '', 'readme-link', 'missing.txt', '../../../../../../etc/passwd'];
      for (const attempt of attempts) {
        await rejectsWith(git.readFile({ url: fileUrl }, tip.hash, attempt), 'not-found', /file .* at commit [0-9a-f]{40} not found/);
      }
    });

    it('works the same with a plain local path', async () => {
      const tip = await git.resolveCommit({ url: repo.bareDir });
      assert.equal(tip.hash, repo.commits[1]);
      const first = await git.resolveCommit({ url: repo.bareDir }, repo.commits[0]!.slice(0, 9));
      assert.equal((await git.readFile({ url: repo.bareDir }, first.hash, 'README.md')).toString(), 'readme\n');
    });
  });

  describe('branches', () => {
    it('finds a configured branch, and a commit by hash only on its own branch', async () => {
      const branched = await createTestRepository(root, 'branched', [FIRST]);
      const feature = await branched.commit({ message: 'feature work', files: { 'feature.runbook.sh': 'x\n' } }, 'feature');
      const { git } = newRepositories();
      const url = `file://${branched.bareDir}`;
      assert.equal((await git.resolveCommit({ url })).hash, branched.commits[0]);
      await rejectsWith(git.resolveCommit({ url }, feature), 'not-found', /on branch "main" not found/);
      assert.equal((await git.resolveCommit({ url, branch: 'feature' })).hash, feature);
      assert.equal((await git.resolveCommit({ url, branch: 'feature' }, feature.slice(0, 8))).hash, feature);
    });

    it('answers not found for a missing branch and invalid for a malformed one', async () => {
      const { git } = newRepositories();
      await rejectsWith(git.resolveCommit({ url: repo.bareDir, branch: 'nope' }), 'not-found', /branch "nope" not found/);
      await rejectsWith(git.resolveCommit({ url: repo.bareDir, branch: '--upload-pack=touch' }), 'invalid');
      await rejectsWith(git.resolveCommit({ url: repo.bareDir, branch: 'a..b' }), 'invalid');
    });

    it('falls back to main when the remote HEAD names a branch that does not exist', async () => {
      const headless = await createTestRepository(root, 'headless', [FIRST]);
      await execFileAsync('git', ['--git-dir', headless.bareDir, 'symbolic-ref', 'HEAD', 'refs/heads/trunk']);
      const { git } = newRepositories();
      assert.equal((await git.resolveCommit({ url: headless.bareDir })).hash, headless.commits[0]);
    });

    it('follows the remote HEAD to its branch', async () => {
      const trunk = await createTestRepository(root, 'trunk', [FIRST]);
      const onTrunk = await trunk.commit(SECOND, 'trunk');
      await execFileAsync('git', ['--git-dir', trunk.bareDir, 'symbolic-ref', 'HEAD', 'refs/heads/trunk']);
      const { git } = newRepositories();
      assert.equal((await git.resolveCommit({ url: trunk.bareDir })).hash, onTrunk);
    });
  });

  describe('tip cache', () => {
    it('keeps the tip for tipCacheMs, and fetches again after invalidate', async () => {
      const moving = await createTestRepository(root, 'moving', [FIRST]);
      const url = `file://${moving.bareDir}`;
      const { git: cached } = newRepositories({ tipCacheMs: 600_000 });
      const { git: uncached } = newRepositories({ tipCacheMs: 0 });
      assert.equal((await cached.resolveCommit({ url })).hash, moving.commits[0]);
      assert.equal((await uncached.resolveCommit({ url })).hash, moving.commits[0]);

      const second = await moving.commit(SECOND);
      assert.equal((await cached.resolveCommit({ url })).hash, moving.commits[0]);
      assert.equal((await uncached.resolveCommit({ url })).hash, second);

      cached.invalidate('file:///some/other/repository.git');
      assert.equal((await cached.resolveCommit({ url })).hash, moving.commits[0]);
      cached.invalidate(url);
      assert.equal((await cached.resolveCommit({ url })).hash, second);

      const third = await moving.commit({ message: 'third', files: { 'third.runbook.sh': '3\n' } });
      cached.invalidate();
      assert.equal((await cached.resolveCommit({ url })).hash, third);
    });

    it('finds a commit pushed after the tip was cached when asked for by hash', async () => {
      const later = await createTestRepository(root, 'later', [FIRST]);
      const { git } = newRepositories({ tipCacheMs: 600_000 });
      await git.resolveCommit({ url: later.bareDir });
      const pushed = await later.commit(SECOND);
      assert.equal((await git.resolveCommit({ url: later.bareDir }, pushed)).hash, pushed);
      assert.equal((await git.readFile({ url: later.bareDir }, pushed, 'ops/new.runbook.py')).toString(), 'print(1)\n');
    });
  });

  describe('over HTTP with Basic auth', () => {
    it('fetches with the right token, the user defaulting to oauth2, and keeps no credential in the cache', async () => {
      const { git, cacheDir } = newRepositories();
      const settings = { url: http.url('runbooks'), httpPassword: TOKEN };
      const tip = await git.resolveCommit(settings);
      assert.equal(tip.hash, repo.commits[1]);
      const first = await git.resolveCommit(settings, repo.commits[0]!.slice(0, 7));
      assert.equal((await git.readFile(settings, first.hash, 'ops/deploy.runbook.sh')).toString(), 'echo v1\n');

      const files = await filesUnder(cacheDir);
      assert.ok(files.length > 0);
      for (const file of files) {
        const content = await readFile(file);
        assert.ok(!content.includes(TOKEN), `${file} holds the token`);
      }
      const mode = (await stat(cacheDir)).mode & 0o777;
      assert.equal(mode, 0o700);
    });

    it('accepts credentials written in the URL without ever passing them to git', async () => {
      const url = http.url('runbooks').replace('http://', `http://oauth2:${TOKEN}@`);
      const access = resolveRemoteAccess({ url });
      assert.ok(!access.fetchUrl.includes(TOKEN));
      assert.equal(access.httpAuth?.password, TOKEN);
      const { git } = newRepositories();
      assert.equal((await git.resolveCommit({ url })).hash, repo.commits[1]);
    });

    it('reports a wrong token as an auth error that names the repository but no secret', async () => {
      const { git } = newRepositories();
      const wrong = `wrong-${randomBytes(8).toString('hex')}`;
      const url = http.url('runbooks').replace('http://', `http://someone:${wrong}@`);
      const error = await rejectsWith(git.resolveCommit({ url }), 'auth', /authentication failed/);
      assert.ok(error.message.includes(http.url('runbooks')), error.message);
      assert.ok(!error.message.includes(wrong) && !error.message.includes(TOKEN) && !error.message.includes('someone'), error.message);

      const explicit = await rejectsWith(git.resolveCommit({ url: http.url('runbooks'), httpUser: 'oauth2', httpPassword: wrong }), 'auth');
      assert.ok(!explicit.message.includes(wrong), explicit.message);
      await rejectsWith(git.resolveCommit({ url: http.url('runbooks') }), 'auth');
    });

    it('shares one fetch between concurrent resolves of the same repository', async () => {
      const settings = { url: http.url('runbooks'), httpPassword: TOKEN };
      const before = http.requests.length;
      await newRepositories().git.resolveCommit(settings);
      const oneResolve = http.requests.length - before;

      const { git } = newRepositories();
      const start = http.requests.length;
      const results = await Promise.all(Array.from({ length: 6 }, () => git.resolveCommit(settings)));
      assert.equal(http.requests.length - start, oneResolve);
      for (const result of results) assert.equal(result.hash, repo.commits[1]);
    });
  });

  it('fetches over git:// from git daemon', async () => {
    const { git } = newRepositories();
    const url = daemon.url('runbooks');
    assert.equal((await git.resolveCommit({ url })).hash, repo.commits[1]);
    assert.equal((await git.resolveCommit({ url }, repo.commits[0])).hash, repo.commits[0]);
  });

  describe('failures', () => {
    it('reports a closed port as unreachable', async () => {
      const port = await freePort();
      const { git } = newRepositories();
      for (const url of [`http://user:secret@127.0.0.1:${port}/runbooks.git`, `git://127.0.0.1:${port}/runbooks.git`]) {
        const error = await rejectsWith(git.resolveCommit({ url }), 'unreachable', new RegExp(`127\\.0\\.0\\.1:${port}/runbooks\\.git is unreachable`));
        assert.ok(!error.message.includes('secret'), error.message);
      }
      await rejectsWith(git.resolveCommit({ url: path.join(root, 'missing.git') }), 'unreachable');
    });

    it('times out on a remote that never answers, and stops git', async () => {
      const silent = await startSilentServer();
      try {
        const { git } = newRepositories({ fetchTimeoutMs: 500 });
        await rejectsWith(git.resolveCommit({ url: `http://127.0.0.1:${silent.port}/runbooks.git`, branch: 'main' }), 'timeout', /timed out after 0.5 s/);
        const deadline = Date.now() + 10_000;
        while (silent.openConnections() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        assert.equal(silent.openConnections(), 0);
      } finally {
        await silent.close();
      }
    });

    it('refuses URLs it does not support', async () => {
      const { git } = newRepositories();
      for (const url of ['', 'ftp://example.com/repo.git', 'ext::sh -c touch% /tmp/pwned', 'relative/path.git', '-oProxyCommand=x:repo', 'fd::17']) {
        await rejectsWith(git.resolveCommit({ url }), 'invalid');
      }
      await rejectsWith(git.resolveCommit({ url: 'git@example.com:team/runbooks.git' }), 'invalid', /needs an SSH private key/);
      await rejectsWith(git.resolveCommit({ url: 'ssh://example.com/x.git', sshKey: 'not a key' }), 'invalid', /not a PEM or OpenSSH private key/);
    });

    it('redacts user info from URLs', () => {
      assert.equal(redactUrl('https://user:p%40ss@example.com:8443/team/repo.git'), 'https://example.com:8443/team/repo.git');
      assert.equal(redactUrl('https://token@example.com/repo'), 'https://example.com/repo');
      assert.equal(redactUrl('ssh://git@example.com/repo.git'), 'ssh://example.com/repo.git');
      assert.equal(redactUrl('git@example.com:team/repo.git'), 'example.com:team/repo.git');
      assert.equal(redactUrl('user:pa@ss@example.com:repo'), 'example.com:repo');
      assert.equal(redactUrl('/srv/git/a@b.git'), '/srv/git/a@b.git');
      assert.equal(redactUrl('https://example.com/a@b'), 'https://example.com/a@b');
    });
  });

  describe('SSH', () => {
    let keyDir: string;
    let privateKey: string;
    let publicKey: string;
    const passphrase = `pass ${randomBytes(6).toString('hex')}`;

    before(async () => {
      keyDir = path.join(root, 'ssh-key');
      await mkdir(keyDir);
      await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'test', '-f', path.join(keyDir, 'id')]);
      privateKey = await readFile(path.join(keyDir, 'id'), 'utf8');
      publicKey = (await readFile(path.join(keyDir, 'id.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');
    });

    function identityFile(command: string): string {
      const match = /IdentityFile="([^"]+)"/.exec(command);
      assert.ok(match?.[1], command);
      return match[1];
    }

    it('passes the key in a 0600 file and the passphrase through askpass, never on the command line', async () => {
      const knownHosts = 'example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyForTheTestOnly';
      const access = resolveRemoteAccess({
        url: 'git@example.com:team/runbooks.git',
        sshKey: privateKey,
        sshKeyPassphrase: passphrase,
        sshKnownHosts: Buffer.from(knownHosts).toString('base64'),
      });
      assert.equal(access.fetchUrl, 'git@example.com:team/runbooks.git');
      const { env, dispose } = await prepareNetworkEnvironment(access, path.join(root, 'unused-known-hosts'));
      const command = env.GIT_SSH_COMMAND ?? '';
      try {
        assert.ok(!command.includes(passphrase) && !command.includes(privateKey.split('\n')[1]!), command);
        assert.match(command, /StrictHostKeyChecking=yes/);
        assert.match(command, /IdentitiesOnly=yes/);
        assert.equal(env.SSH_ASKPASS_REQUIRE, 'force');
        assert.equal(env.SSH_AUTH_SOCK, undefined);

        const keyFile = identityFile(command);
        assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
        assert.equal(await readFile(keyFile, 'utf8'), privateKey);
        const knownHostsFile = /UserKnownHostsFile="([^"]+)"/.exec(command)?.[1] ?? '';
        assert.equal((await stat(knownHostsFile)).mode & 0o777, 0o600);
        assert.equal(await readFile(knownHostsFile, 'utf8'), `${knownHosts}\n`);

        // ssh-keygen asks for the passphrase the way ssh does: through SSH_ASKPASS.
        const { stdout } = await execFileAsync('ssh-keygen', ['-y', '-f', keyFile], { env });
        assert.equal(stdout.split(' ').slice(0, 2).join(' ').trim(), publicKey);
      } finally {
        await dispose();
      }
      assert.ok(!existsSync(path.dirname(identityFile(command))));
    });

    it('fetches over ssh:// with the generated command, pinning host keys in the cache when none are configured', async () => {
      // A stand-in for ssh: records how it was called, then runs the remote command as sshd would.
      const fakeBin = path.join(root, 'fake-ssh-bin');
      const log = path.join(root, 'fake-ssh.log');
      await mkdir(fakeBin, { recursive: true });
      await writeFile(
        path.join(fakeBin, 'ssh'),
        [
          '#!/bin/sh',
          `for arg in "$@"; do printf '%s\\n' "$arg" >> '${log}'; done`,
          `key=$(printf '%s\\n' "$@" | sed -n 's/^IdentityFile="\\(.*\\)"$/\\1/p')`,
          `stat -c 'key mode %a' "$key" >> '${log}'`,
          'eval "remote_command=\\${$#}"',
          'exec sh -c "$remote_command"',
        ].join('\n'),
      );
      await chmod(path.join(fakeBin, 'ssh'), 0o755);
      const originalPath = process.env.PATH;
      process.env.PATH = `${fakeBin}:${originalPath}`;
      try {
        const { git, cacheDir } = newRepositories();
        const settings = { url: `ssh://example.invalid${repo.bareDir}`, sshKey: privateKey, sshKeyPassphrase: passphrase, sshUser: 'deploy' };
        assert.equal((await git.resolveCommit(settings)).hash, repo.commits[1]);
        assert.equal((await git.resolveCommit(settings, repo.commits[0])).hash, repo.commits[0]);

        const recorded = await readFile(log, 'utf8');
        assert.ok(!recorded.includes(passphrase) && !recorded.includes(privateKey.split('\n')[1]!), recorded);
        assert.match(recorded, /^key mode 600$/m);
        assert.match(recorded, /^deploy@example\.invalid$/m);
        assert.match(recorded, /^StrictHostKeyChecking=accept-new$/m);
        assert.match(recorded, new RegExp(`^UserKnownHostsFile="${cacheDir}/[0-9a-f]{64}\\.git/gatehouse_known_hosts"$`, 'm'));
        for (const file of await filesUnder(cacheDir)) assert.ok(!(await readFile(file)).includes(passphrase), file);
      } finally {
        process.env.PATH = originalPath;
      }
    });
  });
});
