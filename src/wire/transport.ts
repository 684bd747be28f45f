import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** The gateway <-> agent contract (proto/gatehouse.proto), typed for TypeScript. */

const PROTO_PATH = fileURLToPath(new URL('../../proto/gatehouse.proto', import.meta.url));

const packageDefinition = protoLoader.loadSync(PROTO_PATH, {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: false,
  oneofs: true,
});
const loaded = grpc.loadPackageDefinition(packageDefinition) as unknown as {
  gatehouse: { wire: { v1: { AgentTransport: grpc.ServiceClientConstructor } } };
};

export const AgentTransportClient = loaded.gatehouse.wire.v1.AgentTransport;
export const agentTransportService = AgentTransportClient.service;

/** Largest gRPC message either side accepts; data messages are kept well under it. */
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
/** Size of stdin and output chunks on a session stream. */
export const DATA_CHUNK_BYTES = 64 * 1024;
export const HEARTBEAT_INTERVAL_MS = 10_000;

export const METADATA_SESSION_ID = 'session-id';

export interface AgentHello {
  version: string;
  hostname: string;
  platform: string;
  kernel_version: string;
  runtime_version: string;
}

export type AgentControl = { kind?: 'hello'; hello: AgentHello } | { kind?: 'heartbeat'; heartbeat: object };

export type GatewayControl =
  | { kind?: 'welcome'; welcome: { agent_id: string; agent_name: string } }
  | { kind?: 'offer'; offer: { session_id: string } }
  | { kind?: 'heartbeat'; heartbeat: object };

export type OutputStreamName = 'OUTPUT_STREAM_STDOUT' | 'OUTPUT_STREAM_STDERR';

export interface SessionExit {
  exit_code?: number;
  error?: string;
}

export type AgentSessionMessage =
  | { kind?: 'output'; output: { stream: OutputStreamName; data: Buffer } }
  | { kind?: 'exit'; exit: SessionExit }
  | { kind?: 'pg_data'; pg_data: { data: Buffer } };

export interface PgConnect {
  session_id: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database?: string;
  sslmode?: string;
  parameters: Record<string, string>;
}

export interface ExecSpec {
  command: string[];
  env: Record<string, Buffer>;
  files: Record<string, Buffer>;
  stdin?: Buffer;
  stdin_complete?: boolean;
  session_id?: string;
  /** `host:port` the agent must reach before it starts the command (database connections). */
  reachability_check?: string;
}

export type GatewaySessionMessage =
  | { kind?: 'spec'; spec: ExecSpec }
  | { kind?: 'stdin'; stdin: { data: Buffer } }
  | { kind?: 'stdin_end'; stdin_end: object }
  | { kind?: 'kill'; kill: { reason: string } }
  | { kind?: 'pg_connect'; pg_connect: PgConnect }
  | { kind?: 'pg_data'; pg_data: { data: Buffer } }
  | { kind?: 'pg_cancel'; pg_cancel: object };

export type AgentControlStream = grpc.ClientDuplexStream<AgentControl, GatewayControl>;
export type AgentSessionStream = grpc.ClientDuplexStream<AgentSessionMessage, GatewaySessionMessage>;
export type GatewayControlStream = grpc.ServerDuplexStream<AgentControl, GatewayControl>;
export type GatewaySessionStream = grpc.ServerDuplexStream<AgentSessionMessage, GatewaySessionMessage>;

export interface AgentTransportClientApi extends grpc.Client {
  Connect(metadata: grpc.Metadata, options?: grpc.CallOptions): AgentControlStream;
  Session(metadata: grpc.Metadata, options?: grpc.CallOptions): AgentSessionStream;
}
