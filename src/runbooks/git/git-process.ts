import { spawn } from 'node:child_process';

export interface GitInvocation {
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** More than this on stdout stops the process: nothing unbounded is held in memory. */
  maxStdoutBytes: number;
  /** Written to git's stdin, which is then closed; without it stdin is /dev/null. */
  input?: Buffer;
}

export type GitOutcome =
  | { status: 'exited'; exitCode: number; stdout: Buffer; stderr: string }
  | { status: 'timed-out' | 'too-much-output' | 'not-started'; stderr: string };

const STDERR_KEPT_BYTES = 16 * 1024;

/**
 * Runs `git` (argument array, no shell) and waits for it. The process gets its own process group,
 * so a timeout kills what git started too (remote helpers, ssh).
 */
export function runGit(invocation: GitInvocation): Promise<GitOutcome> {
  return new Promise((resolve) => {
    const child = spawn('git', invocation.args, {
      env: invocation.env,
      stdio: [invocation.input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      detached: true,
    });
    if (invocation.input) {
      // A git that stops early (killed, or failed) closes its stdin: the rest is not wanted.
      child.stdin!.on('error', () => {});
      child.stdin!.end(invocation.input);
    }
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = Buffer.alloc(0);
    let stoppedBecause: 'timed-out' | 'too-much-output' | undefined;

    const stop = (reason: 'timed-out' | 'too-much-output') => {
      if (stoppedBecause) return;
      stoppedBecause = reason;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => stop('timed-out'), invocation.timeoutMs);

    child.stdout!.on('data', (chunk: Buffer) => {
      if (stoppedBecause) return;
      stdoutBytes += chunk.length;
      if (stdoutBytes > invocation.maxStdoutBytes) stop('too-much-output');
      else stdout.push(chunk);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      // The end of git's messages says what failed.
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.length > STDERR_KEPT_BYTES) stderr = stderr.subarray(stderr.length - STDERR_KEPT_BYTES);
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ status: 'not-started', stderr: `cannot run git: ${error.message}` });
    });
    const finish = (exitCode: number | null) => {
      clearTimeout(timer);
      if (stoppedBecause) resolve({ status: stoppedBecause, stderr: stderr.toString('utf8') });
      else resolve({ status: 'exited', exitCode: exitCode ?? -1, stdout: Buffer.concat(stdout), stderr: stderr.toString('utf8') });
    };
    // A stopped process's output is not wanted: no need to wait for its pipes to close.
    child.on('exit', () => {
      if (stoppedBecause) finish(null);
    });
    child.on('close', finish);
  });
}
