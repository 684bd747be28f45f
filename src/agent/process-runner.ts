import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants as osConstants, tmpdir } from 'node:os';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { ExecSpec, OutputStreamName, SessionExit } from '../wire/transport.js';

/**
 * Runs one execution: argv = spec.command (no shell), environment = the session's variables
 * plus PATH and HOME of the agent, secrets-as-files in 0600 temp files removed afterwards.
 * Output is handed to `onOutput`; when it answers false the process's pipes are paused until
 * `resumeOutput()`, so a slow consumer holds the producer instead of growing memory.
 */

export interface RunnerEvents {
  onOutput(stream: OutputStreamName, data: Buffer): boolean;
  onExit(exit: SessionExit): void;
}

/** Exit code reported when the agent itself could not run or observe the process. */
export const AGENT_FAILURE_EXIT_CODE = 254;
const COMMAND_NOT_FOUND_EXIT_CODE = 127;
const KILL_GRACE_MS = 3000;

export class ProcessRunner {
  private child: ReturnType<typeof spawn> | undefined;
  private tempFiles: string[] = [];
  private killReason: string | undefined;
  private exited = false;
  private readonly pausedPipes = new Set<Readable>();

  constructor(private readonly events: RunnerEvents) {}

  /** Starts the process; it exists when this returns, so stdin can be written right away. */
  start(spec: ExecSpec): void {
    // proto3 leaves empty repeated and map fields out.
    const [program, ...args] = spec.command ?? [];
    if (!program) {
      this.finish({ exit_code: AGENT_FAILURE_EXIT_CODE, error: 'the connection has no command to run' });
      return;
    }
    const env: Record<string, string> = {};
    for (const name of ['PATH', 'HOME', 'LANG', 'TZ']) {
      const value = process.env[name];
      if (value !== undefined) env[name] = value;
    }
    for (const [name, value] of Object.entries(spec.env ?? {})) env[name] = value.toString('utf8');
    try {
      for (const [name, content] of Object.entries(spec.files ?? {})) {
        const file = path.join(tmpdir(), `gatehouse-${randomUUID()}.envfs`);
        this.tempFiles.push(file);
        // Synchronous on purpose: secrets are small, and the process must exist when start returns.
        writeFileSync(file, content, { mode: 0o600 });
        env[name] = file;
      }
    } catch (error) {
      this.finish({ exit_code: AGENT_FAILURE_EXIT_CODE, error: `failed writing secret files: ${(error as Error).message}` });
      return;
    }
    if (this.killReason) {
      this.finish({ error: this.killReason });
      return;
    }

    // Its own process group, so a kill reaches everything the command started.
    const child = spawn(program, args, { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.child = child;
    child.stdin!.on('error', () => {
      // The process closed its stdin early (EPIPE): the rest of the script is not wanted.
    });
    this.pipeOutput(child.stdout!, 'OUTPUT_STREAM_STDOUT');
    this.pipeOutput(child.stderr!, 'OUTPUT_STREAM_STDERR');
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        const message = `${program}: command not found\n`;
        this.events.onOutput('OUTPUT_STREAM_STDERR', Buffer.from(message));
        this.finish({ exit_code: COMMAND_NOT_FOUND_EXIT_CODE });
      } else {
        this.finish({ exit_code: AGENT_FAILURE_EXIT_CODE, error: `failed running ${program}: ${error.message}` });
      }
    });
    child.on('close', (code, signal) => {
      if (this.killReason) this.finish({ error: this.killReason });
      else if (code !== null) this.finish({ exit_code: code });
      else {
        const signo = signal ? osConstants.signals[signal] : undefined;
        this.finish(signo ? { exit_code: 128 + signo } : { exit_code: AGENT_FAILURE_EXIT_CODE });
      }
    });
  }

  /** Writes stdin; answers false when the caller should wait for `drain` on `stdinDrain`. */
  /** Ends the session without starting anything (a check before the start failed). */
  refuse(error: string): void {
    this.finish({ exit_code: AGENT_FAILURE_EXIT_CODE, error });
  }

  writeStdin(data: Buffer): boolean {
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed) return true;
    return stdin.write(data);
  }

  /** Calls back once stdin can take more, or once it is gone (the process closed it or exited). */
  onStdinDrain(callback: () => void): void {
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed) {
      callback();
      return;
    }
    const done = () => {
      stdin.off('drain', done);
      stdin.off('close', done);
      callback();
    };
    stdin.on('drain', done);
    stdin.on('close', done);
  }

  endStdin(): void {
    this.child?.stdin?.end();
  }

  resumeOutput(): void {
    for (const pipe of this.pausedPipes) pipe.resume();
    this.pausedPipes.clear();
  }

  kill(reason: string): void {
    if (this.exited || this.killReason) return;
    this.killReason = reason;
    const child = this.child;
    if (!child?.pid) return;
    this.signalGroup(child.pid, 'SIGTERM');
    setTimeout(() => {
      if (!this.exited) this.signalGroup(child.pid!, 'SIGKILL');
    }, KILL_GRACE_MS).unref();
    // Output no longer matters; keep the pipes flowing so the process can exit.
    this.resumeOutput();
  }

  private signalGroup(pid: number, signal: NodeJS.Signals): void {
    try {
      process.kill(-pid, signal);
    } catch {
      // Already gone.
    }
  }

  private pipeOutput(pipe: Readable, stream: OutputStreamName): void {
    pipe.on('data', (data: Buffer) => {
      if (this.killReason) return;
      if (!this.events.onOutput(stream, data)) {
        pipe.pause();
        this.pausedPipes.add(pipe);
      }
    });
  }

  private finish(exit: SessionExit): void {
    if (this.exited) return;
    this.exited = true;
    const files = this.tempFiles;
    this.tempFiles = [];
    void Promise.all(files.map((file) => rm(file, { force: true }))).finally(() => this.events.onExit(exit));
  }
}
