import { Type } from 'typebox';
import type { App } from '../http/app.js';
import { identityOf } from '../http/app.js';
import { errorResponses } from '../http/schemas.js';
import { VERSION } from '../../version.js';

export function registerSystemRoutes(app: App, info: { apiUrl: string; grpcUrl: string; logLevel: string; storeKind: string; authMethod: string }): void {
  const tags = ['Server Management'];

  app.get(
    '/api/healthz',
    { config: { role: 'public' }, schema: { tags, summary: 'HealthCheck', security: [], response: { 200: Type.Object({ status: Type.String() }) } } },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/api/serverinfo',
    {
      config: { role: 'readOnly' },
      schema: {
        tags,
        summary: 'Get Server Info',
        response: {
          200: Type.Object({
            version: Type.String(),
            commit_sha: Type.String(),
            api_url: Type.String(),
            grpc_url: Type.String(),
            auth_method: Type.String(),
            log_level: Type.String(),
            tenancy_type: Type.String(),
            store: Type.String(),
            disable_sessions_download: Type.Boolean(),
            has_redact_credentials: Type.Boolean(),
            feature_flags: Type.Record(Type.String(), Type.Boolean()),
          }),
          ...errorResponses(401),
        },
      },
    },
    async (request) => {
      return {
        version: VERSION,
        commit_sha: '',
        api_url: info.apiUrl,
        grpc_url: info.grpcUrl,
        auth_method: info.authMethod,
        log_level: info.logLevel,
        tenancy_type: 'selfhosted',
        store: info.storeKind,
        disable_sessions_download: false,
        has_redact_credentials: false,
        feature_flags: {},
      };
    },
  );

  app.get('/api/openapi.json', { config: { role: 'public' }, schema: { hide: true } }, async () => app.swagger());
}
