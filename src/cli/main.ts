import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadAgentConfig, loadClientConfig, loadGatewayConfig } from '../config.js';
import type { RunningGateway } from '../gateway/gateway.js';
import { createLogger, type Logger } from '../log.js';
import { VERSION } from '../version.js';

const USAGE = `gatehouse ${VERSION}: access gateway for databases and servers

Usage: gatehouse <command>

Commands:
  start     gateway + embedded agent (a child process) + store, with a ready "bash" connection
  gateway   the gateway only (HTTP API and agent gRPC port)
  agent     an agent only; reads GATEHOUSE_AGENT_KEY (the token from POST /api/agents)
  connect <connection> [--port 5433]
            a local PostgreSQL port tunnelled to a postgres connection through the gateway's
            HTTP API; reads GATEHOUSE_API_URL and GATEHOUSE_TOKEN (your API key or login token)
  version   print the version

Configuration is read from the environment; see README.md.`;

const EMBEDDED_AGENT_NAME = 'embedded';
const EMBEDDED_AGENT_RESTART_MS = 1000;
const EMBEDDED_AGENT_STOP_MS = 8000;
const EMBEDDED_AGENT_READY_MS = 15_000;
const BIN = fileURLToPath(new URL('../../bin/gatehouse', import.meta.url));

/**
 * Runs until SIGINT/SIGTERM, then stops cleanly; a second signal exits at once. Returns a
 * function that stops the same way, unless a stop is already under way.
 */
function untilSignal(log: Logger, stop: () => Promise<void>): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    log.info({ signal }, 'stopping');
    stop().then(
      () => process.exit(0),
      (error: Error) => {
        log.error({ err: error }, 'failed stopping cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    if (!stopping) onSignal('SIGTERM');
  };
}

/**
 * The embedded agent of `gatehouse start`: the same `gatehouse agent`, as a child process
 * connected over the real gRPC port. A process of its own keeps forks cheap (forking the
 * gateway, with its embedded store, costs milliseconds per command) and a crash contained;
 * it is restarted if it dies.
 */
function superviseEmbeddedAgent(token: string, grpcUrl: string, log: Logger): { stop(): Promise<void> } {
  const env: Record<string, string> = { GATEHOUSE_AGENT_KEY: token, GATEHOUSE_GRPC_URL: grpcUrl };
  for (const name of ['PATH', 'HOME', 'LANG', 'TZ', 'GATEHOUSE_LOG_LEVEL']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  let child: ChildProcess | undefined;
  let stopping = false;
  const start = () => {
    // The IPC channel is how the agent notices this process is gone, however it ended.
    child = spawn(process.execPath, [BIN, 'agent'], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.on('exit', (code, signal) => {
      if (stopping) return;
      log.error({ code, signal }, 'the embedded agent stopped; restarting it');
      setTimeout(start, EMBEDDED_AGENT_RESTART_MS);
    });
  };
  start();
  return {
    async stop() {
      stopping = true;
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise((resolve) => running.on('exit', resolve));
      running.kill('SIGTERM');
      const timer = setTimeout(() => running.kill('SIGKILL'), EMBEDDED_AGENT_STOP_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Its token, its supervised process and the ready `bash` connection; stops early when asked. */
async function startEmbeddedAgent(
  gateway: RunningGateway,
  log: Logger,
  started: (agent: { stop(): Promise<void> }) => void,
  stopping: () => boolean,
): Promise<void> {
  const { agentId, token } = await gateway.agents.issueManagedToken(EMBEDDED_AGENT_NAME, 'embedded');
  if (stopping()) return;
  started(superviseEmbeddedAgent(token, gateway.grpcUrl, log));
  const created = await gateway.connections.ensure({ name: 'bash', type: 'custom', subtype: '', command: ['bash'], agent_id: agentId });
  if (created) log.info('created the connection "bash" on the embedded agent');
  if (!(await gateway.waitForAgent(agentId, EMBEDDED_AGENT_READY_MS))) {
    log.warn('the embedded agent has not connected yet');
  }
}

// Each command loads only its own code: an agent, which runs next to the resources, never
// loads the gateway's HTTP server and database drivers (less memory, and cheaper process spawns).
async function runGateway(withEmbeddedAgent: boolean): Promise<void> {
  const config = loadGatewayConfig();
  const [{ startGateway }, { httpLogSerializers }] = await Promise.all([import('../gateway/gateway.js'), import('../gateway/http/app.js')]);
  const log = createLogger('gatehouse', config.logLevel, httpLogSerializers);
  const gateway = await startGateway(config, log);
  let agent: { stop(): Promise<void> } | undefined;
  let stopping = false;
  // Handled from here on: a signal while the embedded agent starts must stop it too.
  untilSignal(log, async () => {
    stopping = true;
    await agent?.stop();
    await gateway.stop();
  });
  if (withEmbeddedAgent) {
    try {
      await startEmbeddedAgent(gateway, log, (started) => (agent = started), () => stopping);
    } catch (error) {
      // A stop that began meanwhile closed the store under these steps: nothing is wrong.
      if (stopping) return;
      throw error;
    }
    if (stopping) return;
  }
  log.info({ url: gateway.httpUrl }, 'gatehouse is ready');
}

async function runAgent(): Promise<void> {
  const config = loadAgentConfig();
  const { startAgent } = await import('../agent/agent.js');
  const log = createLogger('gatehouse-agent', config.logLevel);
  const agent = startAgent(config, log);
  const stop = untilSignal(log, () => agent.stop());
  // The embedded agent of `gatehouse start` has an IPC channel to it: when that process is
  // gone (even SIGKILLed), stop instead of living on as an orphan.
  if (process.send === undefined) return;
  const parentGone = () => {
    log.info('the gatehouse process that started this agent is gone');
    stop();
  };
  // It may be gone before this runs, which is too late for the event.
  if (!process.connected) parentGone();
  else {
    process.channel?.unref();
    process.once('disconnect', parentGone);
  }
}

async function main(argv: string[]): Promise<void> {
  const command = argv[0];
  switch (command) {
    case 'start':
      return runGateway(true);
    case 'gateway':
      return runGateway(false);
    case 'agent':
      return runAgent();
    case 'connect': {
      const { runConnect } = await import('./connect.js');
      return runConnect(argv.slice(1), loadClientConfig());
    }
    case 'version':
    case '--version':
      console.log(VERSION);
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return;
    default:
      console.error(`unknown command "${command}"\n\n${USAGE}`);
      process.exit(2);
  }
}

main(process.argv.slice(2)).catch((error: Error) => {
  if (error instanceof ConfigError) {
    console.error(`gatehouse: configuration error: ${error.message}`);
    process.exit(2);
  }
  console.error(`gatehouse: ${error.message}`);
  process.exit(1);
});
