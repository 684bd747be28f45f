import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ForbiddenError, GatehouseError, TooManyRequestsError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { AuthService } from '../auth/auth-service.js';
import type { Identity } from '../auth/identity.js';
import { roleAllows, ROUTE_ROLES, type RouteRole } from './roles.js';
import { ErrorBody } from './schemas.js';
import { VERSION } from '../../version.js';

export type App = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  Logger,
  TypeBoxTypeProvider
>;

declare module 'fastify' {
  interface FastifyRequest {
    identity: Identity | undefined;
  }
}

/** The caller of an authenticated route. */
export function identityOf(request: FastifyRequest): Identity {
  if (!request.identity) throw new Error('route is not authenticated');
  return request.identity;
}


/** Query-string credentials (download tokens, login codes and states) are cut out of logged URLs. */
function loggedUrl(url: string): string {
  return url.replace(/([?&](?:token|code|state)=)[^&]*/g, '$1[redacted]');
}

export async function createApp(deps: { log: Logger; auth: Pick<AuthService, 'authenticate'>; bodyLimit: number }): Promise<App> {
  const app = Fastify({
    loggerInstance: deps.log,
    // One line per request, written when it is answered (below), instead of two.
    disableRequestLogging: true,
    bodyLimit: deps.bodyLimit,
    routerOptions: { ignoreTrailingSlash: true },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  app.addSchema(ErrorBody);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Gatehouse API',
        version: VERSION,
        description: 'Access gateway for databases and servers; hoop.dev-compatible API under /api.',
      },
      servers: [{ url: '/api' }],
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, apiKey: { type: 'apiKey', in: 'header', name: 'Api-Key' } },
      },
      security: [{ bearer: [] }, { apiKey: [] }],
    },
    // Each operation carries its route's role, so clients (and the authorization test) see who may call it.
    transform: ({ schema, url, route }) => ({
      schema: { ...schema, 'x-gatehouse-role': (route.config as { role?: RouteRole } | undefined)?.role } as typeof schema,
      // The servers entry (/api) is taken off every path by the plugin itself.
      url,
    }),
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (json.$id as string) || `def-${i}` },
  });

  app.addHook('onResponse', async (request, reply) => {
    request.log.info({ req: request, res: reply, responseTime: Math.round(reply.elapsedTime * 100) / 100 }, 'request completed');
  });

  // Every route says who may call it; one without a role is a programming error, caught here
  // at start-up rather than left open.
  app.addHook('onRoute', (route) => {
    const role = (route.config as { role?: unknown } | undefined)?.role;
    if (!ROUTE_ROLES.includes(role as RouteRole)) {
      throw new Error(`route ${String(route.method)} ${route.url} declares no role (config.role: ${ROUTE_ROLES.join(' | ')})`);
    }
  });

  app.decorateRequest('identity', undefined);
  app.addHook('onRequest', async (request) => {
    // Unknown routes have no role: they are answered 404 by the not-found handler.
    const role = request.routeOptions.config.role;
    if (role === undefined || role === 'public') return;
    const identity = await deps.auth.authenticate({
      authorization: request.headers.authorization,
      'api-key': request.headers['api-key'] as string | undefined,
    });
    if (!roleAllows(role, identity)) throw new ForbiddenError('access denied');
    request.identity = identity;
  });

  app.setErrorHandler((error: Error & { statusCode?: number; validation?: unknown; code?: string }, request, reply) => {
    if (error instanceof GatehouseError) {
      if (error.status >= 500) request.log.error({ err: error }, 'request failed');
      if (error instanceof TooManyRequestsError) reply.header('Retry-After', String(error.retryAfterSeconds));
      return reply.status(error.status).send({ message: error.message });
    }
    if (error.validation) {
      return reply.status(400).send({ message: error.message });
    }
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      // Fastify's own client errors: malformed JSON, body too large, bad content type.
      return reply.status(error.statusCode).send({ message: error.message });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.status(500).send({ message: 'internal error' });
  });
  app.setNotFoundHandler((request, reply) => reply.status(404).send({ message: `route ${request.method} ${loggedUrl(request.url.split('?')[0] ?? '')} not found` }));

  return app;
}

/** pino serializers for Fastify's request logs: method, URL without credentials, status. */
export const httpLogSerializers = {
  req(request: FastifyRequest) {
    return { method: request.method, url: loggedUrl(request.url), remoteAddress: request.ip };
  },
  res(reply: { statusCode: number }) {
    return { statusCode: reply.statusCode };
  },
};

/** Below this a rendered body is sent as one string; above it, streamed as it is produced. */
const STREAM_THRESHOLD_CHARS = 256 * 1024;

/**
 * Sends JSON produced in pieces: a small body as one string (one write, a Content-Length),
 * a large one as a stream, so that a large body is never held whole in memory.
 */
export function sendJsonPieces(reply: FastifyReply, pieces: Iterable<string> | AsyncIterable<string>): FastifyReply {
  reply.type('application/json; charset=utf-8');
  if (Symbol.asyncIterator in pieces) return reply.send(Readable.from(pieces));
  const iterator = pieces[Symbol.iterator]();
  let head = '';
  for (let next = iterator.next(); !next.done; next = iterator.next()) {
    head += next.value;
    if (head.length > STREAM_THRESHOLD_CHARS) {
      const rest = { [Symbol.iterator]: () => iterator };
      return reply.send(Readable.from((function* () {
        yield head;
        yield* rest;
      })()));
    }
  }
  return reply.send(head);
}
