import os from 'node:os';
import * as grpc from '@grpc/grpc-js';
import type { AgentConfig } from '../config.js';
import type { Logger } from '../log.js';
import { VERSION } from '../version.js';
import { parseAgentDsn } from '../wire/agent-dsn.js';
import {
  AgentTransportClient,
  HEARTBEAT_INTERVAL_MS,
  MAX_MESSAGE_BYTES,
  type AgentControlStream,
  type AgentTransportClientApi,
  type GatewayControl,
} from '../wire/transport.js';
import { serveSession, type SessionHandle } from './session-handler.js';

const WARM_STREAM_RETRY_MS = 1000;

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15_000;

export interface RunningAgent {
  stop(): Promise<void>;
}

/**
 * The agent: dials the gateway, keeps a control stream open (reconnecting with capped
 * exponential backoff and jitter), and serves each offered session on its own stream.
 */
export function startAgent(config: AgentConfig, log: Logger): RunningAgent {
  const dsn = parseAgentDsn(config.agentKey);
  const target = config.grpcUrl ? new URL(config.grpcUrl) : undefined;
  const address = target ? target.host : `${dsn.host.includes(':') ? `[${dsn.host}]` : dsn.host}:${dsn.port}`;
  const tls = target ? target.protocol === 'grpcs:' : dsn.tls;
  const client = new AgentTransportClient(address, tls ? grpc.credentials.createSsl() : grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    'grpc.keepalive_time_ms': 20_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
    // The channel's own reconnect backoff (up to 120 s by default) must not outlast ours.
    'grpc.initial_reconnect_backoff_ms': BACKOFF_MIN_MS,
    'grpc.max_reconnect_backoff_ms': BACKOFF_MAX_MS,
    // Session streams are never retried (a lost one ends its session), so the retry layer's
    // per-message buffering is pure cost on every message.
    'grpc.enable_retries': 0,
  }) as unknown as AgentTransportClientApi;

  const auth = new grpc.Metadata();
  auth.set('authorization', `Bearer ${config.agentKey}`);

  const sessions = new Set<SessionHandle>();
  let controlReady = false;
  let stopped = false;
  let control: AgentControlStream | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let attempt = 0;

  const hello = {
    version: VERSION,
    hostname: os.hostname(),
    platform: `${process.platform}/${process.arch}`,
    kernel_version: os.release(),
    runtime_version: process.version,
  };

  function track(session: SessionHandle): void {
    sessions.add(session);
    void session.done.then(() => sessions.delete(session));
  }

  /** Keeps one Session stream open and ready for the gateway's next session. */
  function openWarmStream(): void {
    if (stopped || !controlReady) return;
    const session = serveSession(client, auth, undefined, log);
    track(session);
    session.claimed.then(openWarmStream, () => {
      if (controlReady) setTimeout(openWarmStream, WARM_STREAM_RETRY_MS).unref();
    });
  }

  function connect(): void {
    if (stopped) return;
    const stream = client.Connect(auth);
    control = stream;
    let welcomed = false;
    stream.on('data', (message: GatewayControl) => {
      switch (message.kind) {
        case 'welcome':
          welcomed = true;
          attempt = 0;
          log.info({ agent: message.welcome.agent_name, gateway: address }, 'connected to the gateway');
          controlReady = true;
          openWarmStream();
          break;
        case 'offer':
          track(serveSession(client, auth, message.offer.session_id, log));
          break;
        case 'heartbeat':
          break;
      }
    });
    let closed = false;
    const onClosed = (error?: grpc.ServiceError) => {
      if (closed) return;
      closed = true;
      controlReady = false;
      clearInterval(heartbeat);
      if (stopped) return;
      if (error?.code === grpc.status.UNAUTHENTICATED || error?.code === grpc.status.PERMISSION_DENIED) {
        log.error({ reason: error.details }, 'the gateway refused this agent key; retrying');
      } else if (welcomed) {
        log.warn({ reason: error?.details }, 'lost the gateway; reconnecting');
      }
      scheduleReconnect();
    };
    stream.on('error', onClosed);
    stream.on('end', () => onClosed());
    stream.write({ hello });
    heartbeat = setInterval(() => stream.write({ heartbeat: {} }), HEARTBEAT_INTERVAL_MS);
  }

  function scheduleReconnect(): void {
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempt);
    attempt += 1;
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    retryTimer = setTimeout(connect, delay);
  }

  connect();

  return {
    async stop() {
      stopped = true;
      controlReady = false;
      clearTimeout(retryTimer);
      clearInterval(heartbeat);
      for (const session of sessions.values()) session.kill('agent stopped');
      await Promise.race([
        Promise.all([...sessions.values()].map((s) => s.done)),
        new Promise((resolve) => setTimeout(resolve, 5000).unref()),
      ]);
      control?.cancel();
      client.close();
    },
  };
}
