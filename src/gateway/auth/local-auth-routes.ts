import { Type } from 'typebox';
import type { FastifyReply } from 'fastify';
import type { App } from '../http/app.js';
import { errorResponses } from '../http/schemas.js';
import type { LocalAuthService } from './local-auth-service.js';
import { LocalLoginRequest, LocalRegisterRequest } from './local-auth-types.js';

/** The login token goes in the `Token` header, readable by browser code on other origins too. */
function sendToken(reply: FastifyReply, token: string): FastifyReply {
  return reply.header('Token', token).header('Access-Control-Expose-Headers', 'Token');
}

export function registerLocalAuthRoutes(app: App, localAuth: LocalAuthService): void {
  const tags = ['Authentication'];
  const withToken = 'The login token (a JWT valid 12 hours) is in the `Token` header; send it as `Authorization: Bearer <token>`.';

  app.post(
    '/api/localauth/register',
    {
      config: { role: 'public' },
      schema: {
        tags,
        summary: 'Local | Register User',
        description: 'Creates the first user, as admin; afterwards admins create users with POST /api/users.',
        security: [],
        body: LocalRegisterRequest,
        response: {
          201: Type.Object({ message: Type.String() }, { description: withToken }),
          ...errorResponses(400, 403, 422),
        },
      },
    },
    async (request, reply) => {
      const token = await localAuth.register(request.body);
      return sendToken(reply, token).status(201).send({ message: 'User created successfully' });
    },
  );

  app.post(
    '/api/localauth/login',
    {
      config: { role: 'public' },
      schema: {
        tags,
        summary: 'Local | Login',
        security: [],
        body: LocalLoginRequest,
        response: {
          200: Type.Object({ status: Type.String() }, { description: withToken }),
          ...errorResponses(400, 401, 403, 429),
        },
      },
    },
    async (request, reply) => {
      const token = await localAuth.login(request.body, request.ip);
      return sendToken(reply, token).send({ status: 'ok' });
    },
  );
}
