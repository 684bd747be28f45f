import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { ConfigError, reachableHost, type GatewayConfig } from '../config.js';
import type { ConnectionRecord } from './connections/connection-types.js';
import { createNativePgService } from './native-pg/native-pg-service.js';
import { listenPostgres } from './native-pg/pg-listener.js';
import { attachPgTunnel } from './native-pg/pg-tunnel.js';
import type { SessionPolicy } from './sessions/session-output.js';
import type { Logger } from '../log.js';
import { createAgentService, type AgentService } from './agents/agent-service.js';
import { createAgentStore } from './agents/agent-store.js';
import { registerAgentRoutes } from './agents/agent-routes.js';
import { registerApiKeyRoutes } from './api-keys/api-key-routes.js';
import { createApiKeyService } from './api-keys/api-key-service.js';
import { createApiKeyStore } from './api-keys/api-key-store.js';
import { createAuthService } from './auth/auth-service.js';
import { registerLocalAuthRoutes } from './auth/local-auth-routes.js';
import { createLocalAuthService } from './auth/local-auth-service.js';
import { createLoginRateLimiter } from './auth/login-rate-limit.js';
import { createOidc } from './auth/oidc.js';
import { registerOidcLoginRoutes } from './auth/oidc-login-routes.js';
import { routeLoginTokens } from './auth/oidc-token-router.js';
import { loadOrCreateSigningKey } from './auth/signing-key.js';
import { createSigningKeyStore } from './auth/signing-key-store.js';
import { createUserTokens } from './auth/user-tokens.js';
import { createConnectionService, type ConnectionService } from './connections/connection-service.js';
import { createConnectionStore } from './connections/connection-store.js';
import { registerConnectionRoutes } from './connections/connection-routes.js';
import { registerDataMaskingRoutes } from './datamasking/datamasking-routes.js';
import { createDataMaskingService } from './datamasking/datamasking-service.js';
import { createDataMaskingStore } from './datamasking/datamasking-store.js';
import type { SegmentStore } from './events/event-log.js';
import { registerGuardrailRoutes } from './guardrails/guardrail-routes.js';
import { createGuardrailService } from './guardrails/guardrail-service.js';
import { createGuardrailStore } from './guardrails/guardrail-store.js';
import { createFileSegmentStore } from './events/file-segment-store.js';
import { createPgSegmentStore } from './events/pg-segment-store.js';
import { createApp } from './http/app.js';
import { createAccessControl } from './plugins/access-control.js';
import { registerPluginRoutes } from './plugins/plugin-routes.js';
import { createPluginService } from './plugins/plugin-service.js';
import { createPluginStore } from './plugins/plugin-store.js';
import { createRunbookConfigService } from './runbooks/runbook-config-service.js';
import { createRunbookConfigStore } from './runbooks/runbook-config-store.js';
import { registerRunbookRoutes } from './runbooks/runbook-routes.js';
import { createRunbookService } from './runbooks/runbook-service.js';
import { createSealer, loadOrCreateSecretKey } from './secrets/sealer.js';
import { createDownloadTokenStore } from './sessions/download-token-store.js';
import { createSessionService } from './sessions/session-service.js';
import { createSessionStore } from './sessions/session-store.js';
import { registerSessionRoutes } from './sessions/session-routes.js';
import { registerReviewRoutes } from './reviews/review-routes.js';
import { createReviewService } from './reviews/review-service.js';
import { createReviewStore } from './reviews/review-store.js';
import { registerReportRoutes } from './reports/report-routes.js';
import { createReportService } from './reports/report-service.js';
import { createReportStore } from './reports/report-store.js';
import { createSessionReviews } from './reviews/session-reviews.js';
import { openStore } from './store/db.js';
import { registerSystemRoutes } from './system/system-routes.js';
import { createGitRepositories } from '../runbooks/git/index.js';
import { createAgentHub } from './transport/agent-hub.js';
import { createGroupService } from './users/group-service.js';
import { createGroupStore } from './users/group-store.js';
import { registerUserRoutes } from './users/user-routes.js';
import { createUserService } from './users/user-service.js';
import { createUserStore } from './users/user-store.js';
import { createDeliveryStore } from './webhooks/delivery-store.js';
import { createWebhookDispatcher } from './webhooks/webhook-dispatcher.js';
import { createWebhookNotifier } from './webhooks/webhook-notifier.js';
import { registerWebhookRoutes } from './webhooks/webhook-routes.js';
import { createWebhookService } from './webhooks/webhook-service.js';
import { createWebhookStore } from './webhooks/webhook-store.js';

/**
 * This gateway's identity, kept in its data dir so it survives restarts: what it owned before
 * a crash (agent streams, running sessions) is what it settles at start-up.
 */
async function loadOrCreateGatewayId(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'gateway-id');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const id = randomUUID();
  await writeFile(file, id + '\n', { mode: 0o600 });
  return id;
}

export interface RunningGateway {
  httpUrl: string;
  grpcUrl: string;
  agents: AgentService;
  connections: ConnectionService;
  waitForAgent(agentId: string, timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

/** The PostgreSQL port's TLS certificate and key, read once at start-up. */
async function loadSecureContext(files: { certFile: string; keyFile: string }): Promise<tls.SecureContext> {
  try {
    return tls.createSecureContext({ cert: await readFile(files.certFile), key: await readFile(files.keyFile) });
  } catch (error) {
    throw new ConfigError(`GATEHOUSE_PG_TLS_CERT / GATEHOUSE_PG_TLS_KEY: ${(error as Error).message}`);
  }
}

/** Builds the gateway from its parts and starts the HTTP API and the agent gRPC port. */
export async function startGateway(config: GatewayConfig, log: Logger): Promise<RunningGateway> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const store = await openStore({ postgresUri: config.postgresUri, dataDir: config.dataDir });
  const { db } = store;

  const sealer = createSealer(await loadOrCreateSecretKey(config.secretKey, config.dataDir));
  const gatewayId = await loadOrCreateGatewayId(config.dataDir);
  const agentStore = createAgentStore(db, gatewayId);
  await agentStore.markOwnDisconnected();
  const hub = createAgentHub({ agents: agentStore, log: log.child({ component: 'agent-hub' }) });

  let segments: SegmentStore;
  if (store.kind === 'postgres') {
    segments = createPgSegmentStore(db);
  } else {
    const files = createFileSegmentStore(config.dataDir);
    await files.init();
    segments = files;
  }

  const apiKeyStore = createApiKeyStore(db);
  const userStore = createUserStore(db);
  const signingKey = await loadOrCreateSigningKey({ store: createSigningKeyStore(db), sealer });
  const userTokens = createUserTokens({ signingKey, issuer: config.apiUrl, users: userStore });
  const oidc =
    config.oidc &&
    createOidc({
      config: config.oidc,
      apiUrl: config.apiUrl,
      db,
      users: userStore,
      onUsersChange: () => loginTokens.invalidate(),
      log: log.child({ component: 'oidc' }),
    });
  const loginTokens = routeLoginTokens({ gatewayIssuer: config.apiUrl, local: userTokens, oidc: oidc?.bearerTokens });
  const auth = createAuthService({ apiKeys: apiKeyStore, configuredApiKey: config.apiKey, userTokens: loginTokens });
  const users = createUserService({ store: userStore, authMethod: config.authMethod, onChange: loginTokens.invalidate });
  const groups = createGroupService({ store: createGroupStore(db), onChange: loginTokens.invalidate });
  const localAuth = createLocalAuthService({
    users: userStore,
    tokens: userTokens,
    limiter: createLoginRateLimiter(),
    enabled: config.authMethod === 'local',
  });
  const apiKeys = createApiKeyService({ store: apiKeyStore, onChange: () => auth.forgetCachedKeys() });
  const pluginStore = createPluginStore(db);
  const accessControl = createAccessControl({ plugins: pluginStore });
  const connectionStore = createConnectionStore(db);
  const connections = createConnectionService({ store: connectionStore, sealer, access: accessControl });
  const plugins = createPluginService({
    store: pluginStore,
    findConnection: (nameOrId) => connectionStore.findByNameOrId(nameOrId),
    onChange: () => accessControl.forget(),
  });
  const agents = createAgentService({ store: agentStore, grpcUrl: config.grpcUrl, disconnect: hub.disconnect });
  // Notifications go out as webhooks: `publish` queues deliveries in the store (an outbox), the
  // dispatcher sends them. Producers (sessions, reviews) take `notifier`.
  const deliveryStore = createDeliveryStore(db);
  const webhookDispatcher = createWebhookDispatcher({
    deliveries: deliveryStore,
    sealer,
    log: log.child({ component: 'webhooks' }),
    retryBaseMs: config.webhookRetryBaseMs,
  });
  const notifier = createWebhookNotifier({ deliveries: deliveryStore, onQueued: webhookDispatcher.wake });
  const webhooks = createWebhookService({
    webhooks: createWebhookStore(db),
    deliveries: deliveryStore,
    sealer,
    onRequeued: webhookDispatcher.wake,
  });
  const dataMasking = createDataMaskingService({
    store: createDataMaskingStore(db),
    findConnection: (nameOrId) => connectionStore.findByNameOrId(nameOrId),
    mode: config.maskingMode,
  });
  const guardrails = createGuardrailService({ store: createGuardrailStore(db) });
  const reviewStore = createReviewStore(db);
  const reviewLog = log.child({ component: 'reviews' });
  const sessionReviews = createSessionReviews({ store: reviewStore, sealer, notifier, log: reviewLog });
  const sessionPolicies = {
    async forConnection(connection: ConnectionRecord): Promise<SessionPolicy> {
      const [masking, guardrailSet] = await Promise.all([dataMasking.maskingFor(connection), guardrails.guardrailsFor(connection)]);
      return { masking, guardrails: guardrailSet };
    },
  };
  const sessions = createSessionService({
    sessions: createSessionStore(db, gatewayId),
    downloadTokens: createDownloadTokenStore(db),
    connections,
    segments,
    hub,
    log: log.child({ component: 'sessions' }),
    apiUrl: config.apiUrl,
    execWaitMs: config.execWaitSeconds * 1000,
    agentConnectWaitMs: config.agentConnectWaitSeconds * 1000,
    execOutputMaxBytes: config.execOutputMaxBytes,
    sessionEventsMaxBytes: config.sessionEventsMaxBytes,
    notifier,
    reviews: sessionReviews,
    policies: sessionPolicies,
  });
  const reviews = createReviewService({ store: reviewStore, sessions, connections, sealer, notifier, log: reviewLog });
  const git = createGitRepositories({
    cacheDir: path.join(config.dataDir, 'runbook-repositories'),
    fetchTimeoutMs: config.runbooksFetchTimeoutSeconds * 1000,
    tipCacheMs: config.runbooksTipCacheSeconds * 1000,
  });
  const runbookConfig = createRunbookConfigService({ store: createRunbookConfigStore(db), sealer, onChange: () => git.invalidate() });
  const runbooks = createRunbookService({ config: runbookConfig, git, connections, sessions, log: log.child({ component: 'runbooks' }) });
  const nativePg = createNativePgService({
    auth,
    connections,
    reviews: sessionReviews,
    sessions,
    policies: sessionPolicies,
    hub,
    segments,
    sessionEventsMaxBytes: config.sessionEventsMaxBytes,
    agentConnectWaitMs: config.agentConnectWaitSeconds * 1000,
    secureContext: config.postgresProxy?.tls && (await loadSecureContext(config.postgresProxy.tls)),
    log: log.child({ component: 'native-pg' }),
  });
  const orphans = await sessions.closeOrphans();
  if (orphans) log.warn({ sessions: orphans }, 'closed sessions left open by an earlier run of the gateway');
  const settledReviews = await reviews.settleFinishedRuns();
  if (settledReviews) log.warn({ reviews: settledReviews }, 'marked executed the reviews whose run ended while no gateway watched it');

  const adminKey = await auth.bootstrapAdminKey();
  if (adminKey) {
    const file = path.join(config.dataDir, 'admin-api-key');
    await writeFile(file, adminKey + '\n', { mode: 0o600 });
    // Shown once, on the terminal only: never through the logger.
    process.stdout.write(`\nAdmin API key (shown once, also saved to ${file}):\n\n  ${adminKey}\n\n`);
  }

  const app = await createApp({ log, auth, bodyLimit: config.requestBodyMaxBytes });
  registerSystemRoutes(app, {
    apiUrl: config.apiUrl,
    grpcUrl: config.grpcUrl,
    logLevel: config.logLevel,
    storeKind: store.kind,
    authMethod: config.authMethod,
  });
  registerConnectionRoutes(app, connections);
  registerAgentRoutes(app, agents);
  registerSessionRoutes(app, sessions);
  registerReviewRoutes(app, reviews);
  registerRunbookRoutes(app, runbooks, runbookConfig);
  registerUserRoutes(app, users, groups);
  registerLocalAuthRoutes(app, localAuth);
  registerOidcLoginRoutes(app, oidc?.login, { secureCookie: new URL(config.apiUrl).protocol === 'https:' });
  registerApiKeyRoutes(app, apiKeys);
  registerPluginRoutes(app, plugins);
  registerWebhookRoutes(app, webhooks);
  registerDataMaskingRoutes(app, dataMasking);
  registerGuardrailRoutes(app, guardrails);
  registerReportRoutes(app, createReportService({ store: createReportStore(db) }));

  attachPgTunnel(app.server, { auth, serve: (socket, grant) => nativePg.serve(socket, grant), log: log.child({ component: 'native-pg' }) });
  const grpcPort = await hub.listen(config.grpc.host, config.grpc.port);
  const pgListener = config.postgresProxy && (await listenPostgres(config.postgresProxy.address, (socket) => nativePg.serve(socket)));
  await app.listen({ host: config.http.host, port: config.http.port });
  webhookDispatcher.start();
  const httpPort = (app.server.address() as { port: number }).port;
  const httpUrl = `http://${reachableHost(config.http.host)}:${httpPort}`;
  const postgres = pgListener ? `${config.postgresProxy!.address.host}:${pgListener.port}` : 'off';
  log.info({ http: httpUrl, grpc: `${config.grpc.host}:${grpcPort}`, postgres, store: store.kind }, 'gateway listening');

  return {
    httpUrl,
    grpcUrl: `grpc://${reachableHost(config.grpc.host)}:${grpcPort}`,
    agents,
    connections,
    waitForAgent: hub.waitForAgent,
    async stop() {
      // Ending the runs first lets exec requests still waiting on them answer, so close can finish.
      await Promise.all([sessions.stopAll('the gateway stopped'), app.close(), pgListener?.close()]);
      // After the sessions, whose ends queue notifications; before the store closes under it.
      await webhookDispatcher.stop();
      await Promise.race([hub.close(), new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
      hub.forceClose();
      await store.close();
    },
  };
}
