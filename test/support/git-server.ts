import { execFile, spawn } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './cluster.js';

/**
 * Real git repositories and servers for tests: a work repository whose commits are pushed to a
 * bare one, served over smart HTTP (git http-backend as CGI, Basic auth required) or git://.
 */

const execFileAsync = promisify(execFile);

/** Git for the tests' own commands: fixed identity, none of the machine's configuration. */
const TEST_GIT_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: 'Runbook Author',
  GIT_AUTHOR_EMAIL: 'author@example.com',
  GIT_COMMITTER_NAME: 'Runbook Author',
  GIT_COMMITTER_EMAIL: 'author@example.com',
};

export const TEST_AUTHOR = 'Runbook Author <author@example.com>';

export async function git(args: string[], cwd?: string): Promise<string> {
  const { stdout } = await execFileAsync('git', args, { cwd, env: TEST_GIT_ENV, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

export interface CommitContent {
  message: string;
  /** Path → content; a `{ symlinkTo }` value makes a symbolic link. */
  files: Record<string, string | Buffer | { symlinkTo: string }>;
}

export interface TestRepository {
  /** The bare repository tests fetch from (`<root>/<name>.git`). */
  bareDir: string;
  /** Hashes of the commits made so far, oldest first. */
  commits: string[];
  /** Commits on `branch` (default main, created from the current commit if new) and pushes it. */
  commit(content: CommitContent, branch?: string): Promise<string>;
}

/** A bare repository `<root>/<name>.git` whose HEAD is main, with `commits` pushed to main. */
export async function createTestRepository(root: string, name: string, commits: CommitContent[]): Promise<TestRepository> {
  const bareDir = path.join(root, `${name}.git`);
  const workDir = path.join(root, `${name}-work`);
  await git(['init', '--quiet', '--bare', '--initial-branch=main', bareDir]);
  await git(['init', '--quiet', '--initial-branch=main', workDir]);
  const repository: TestRepository = {
    bareDir,
    commits: [],
    async commit(content, branch = 'main') {
      const current = (await git(['symbolic-ref', '--short', 'HEAD'], workDir)).trim();
      if (current !== branch) {
        const exists = (await git(['branch', '--list', branch], workDir)).trim() !== '';
        await git(['checkout', '--quiet', ...(exists ? [branch] : ['-b', branch])], workDir);
      }
      for (const [file, data] of Object.entries(content.files)) {
        const target = path.join(workDir, file);
        await mkdir(path.dirname(target), { recursive: true });
        if (typeof data === 'object' && 'symlinkTo' in data) await symlink(data.symlinkTo, target);
        else await writeFile(target, data);
      }
      await git(['add', '--all'], workDir);
      await git(['commit', '--quiet', '--message', content.message], workDir);
      await git(['push', '--quiet', bareDir, `HEAD:refs/heads/${branch}`], workDir);
      const hash = (await git(['rev-parse', 'HEAD'], workDir)).trim();
      repository.commits.push(hash);
      if (branch !== 'main') await git(['checkout', '--quiet', 'main'], workDir);
      return hash;
    },
  };
  for (const content of commits) await repository.commit(content);
  return repository;
}

export interface GitHttpServer {
  /** `http://127.0.0.1:<port>/<name>.git`, without credentials. */
  url(repositoryName: string): string;
  /** Every request received, as `METHOD /path?query`. */
  requests: string[];
  close(): Promise<void>;
}

/** Serves the bare repositories under `projectRoot` over smart HTTP, to Basic `user:password` only. */
export async function startGitHttpServer(options: { projectRoot: string; user: string; password: string }): Promise<GitHttpServer> {
  const backend = path.join((await git(['--exec-path'])).trim(), 'git-http-backend');
  const expectedAuthorization = `Basic ${Buffer.from(`${options.user}:${options.password}`).toString('base64')}`;
  const requests: string[] = [];
  const server = createHttpServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    if (request.headers.authorization !== expectedAuthorization) {
      response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end();
      return;
    }
    const url = new URL(request.url ?? '/', 'http://localhost');
    const header = (name: string) => request.headers[name]?.toString() ?? '';
    const cgi = spawn(backend, [], {
      env: {
        ...TEST_GIT_ENV,
        GIT_PROJECT_ROOT: options.projectRoot,
        GIT_HTTP_EXPORT_ALL: '1',
        REQUEST_METHOD: request.method ?? 'GET',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: header('content-type'),
        ...(request.headers['content-length'] ? { CONTENT_LENGTH: header('content-length') } : {}),
        HTTP_CONTENT_ENCODING: header('content-encoding'),
        HTTP_GIT_PROTOCOL: header('git-protocol'),
        REMOTE_USER: options.user,
        REMOTE_ADDR: '127.0.0.1',
      },
    });
    request.pipe(cgi.stdin);
    relayCgiResponse(cgi.stdout, response);
    cgi.on('error', () => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: (name) => `http://127.0.0.1:${port}/${name}.git`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Turns a CGI answer (headers, a blank line, the body) into the HTTP response. */
function relayCgiResponse(output: NodeJS.ReadableStream, response: ServerResponse): void {
  let head = Buffer.alloc(0);
  let headersSent = false;
  output.on('data', (chunk: Buffer) => {
    if (headersSent) {
      response.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const match = /\r?\n\r?\n/.exec(head.toString('latin1'));
    if (!match) return;
    let status = 200;
    for (const line of head.subarray(0, match.index).toString('latin1').split(/\r?\n/)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else response.setHeader(name, value);
    }
    response.writeHead(status);
    headersSent = true;
    response.write(head.subarray(match.index + match[0].length));
  });
  output.on('end', () => response.end());
}

export interface GitDaemon {
  /** `git://127.0.0.1:<port>/<name>.git`. */
  url(repositoryName: string): string;
  stop(): Promise<void>;
}

/** `git daemon` serving every repository under `projectRoot` on a loopback port. */
export async function startGitDaemon(projectRoot: string): Promise<GitDaemon> {
  const port = await freePort();
  const daemon = spawn(
    'git',
    ['daemon', '--verbose', '--reuseaddr', '--export-all', `--base-path=${projectRoot}`, '--listen=127.0.0.1', `--port=${port}`, projectRoot],
    { env: TEST_GIT_ENV, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => daemon.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let output = '';
    daemon.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('Ready to rumble')) resolve();
    });
    daemon.on('exit', (code) => reject(new Error(`git daemon exited (${code}): ${output}`)));
  });
  return {
    url: (name) => `git://127.0.0.1:${port}/${name}.git`,
    async stop() {
      daemon.kill('SIGTERM');
      await exited;
    },
  };
}

export interface SilentServer {
  port: number;
  /** Connections accepted and still open. */
  openConnections(): number;
  close(): Promise<void>;
}

/** Accepts TCP connections and never answers: a remote that hangs. */
export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    // Reading (and dropping) what the client sends is what lets its hang-up be seen.
    socket.resume();
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    openConnections: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
