import { Type } from 'typebox';
import type { App } from '../http/app.js';
import { identityOf } from '../http/app.js';
import { errorResponses } from '../http/schemas.js';
import type { GroupService } from './group-service.js';
import type { UserService } from './user-service.js';
import { User, UserGroup, UserInfo, UserInput } from './user-types.js';

export function registerUserRoutes(app: App, users: UserService, groups: GroupService): void {
  app.addSchema(User);
  app.addSchema(UserInfo);
  const tags = ['User Management'];
  const UserRef = Type.Ref('User');
  const EmailOrIdParams = Type.Object({ emailOrID: Type.String() });

  app.get(
    '/api/userinfo',
    { config: { role: 'readOnly' }, schema: { tags, summary: 'Get UserInfo', response: { 200: Type.Ref('UserInfo'), ...errorResponses(401) } } },
    async (request) => users.userInfo(identityOf(request)),
  );

  app.get(
    '/api/users',
    { config: { role: 'readOnly' }, schema: { tags, summary: 'List Users', response: { 200: Type.Array(UserRef), ...errorResponses(401) } } },
    async () => users.list(),
  );

  app.get(
    '/api/users/groups',
    { config: { role: 'readOnly' }, schema: { tags, summary: 'List User Groups', response: { 200: Type.Array(Type.String()), ...errorResponses(401) } } },
    async () => groups.list(),
  );

  app.post(
    '/api/users/groups',
    {
      config: { role: 'admin' },
      schema: { tags, summary: 'Create User Group', body: UserGroup, response: { 201: UserGroup, ...errorResponses(400, 401, 403, 409) } },
    },
    async (request, reply) => {
      return reply.status(201).send(await groups.create(request.body.name));
    },
  );

  app.delete(
    '/api/users/groups/:name',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Delete User Group',
        description: 'Deletes the group and removes every user from it.',
        params: Type.Object({ name: Type.String() }),
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 422) },
      },
    },
    async (request, reply) => {
      await groups.remove(request.params.name);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/users/:emailOrID',
    { config: { role: 'readOnly' }, schema: { tags, summary: 'Get User', params: EmailOrIdParams, response: { 200: UserRef, ...errorResponses(401, 404) } } },
    async (request) => users.get(request.params.emailOrID),
  );

  app.post(
    '/api/users',
    {
      config: { role: 'admin' },
      schema: { tags, summary: 'Create User', body: UserInput, response: { 201: UserRef, ...errorResponses(400, 401, 403, 409, 422) } },
    },
    async (request, reply) => {
      return reply.status(201).send(await users.create(request.body));
    },
  );

  app.put(
    '/api/users/:emailOrID',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Update User',
        params: EmailOrIdParams,
        body: UserInput,
        response: { 200: UserRef, ...errorResponses(400, 401, 403, 404, 422) },
      },
    },
    async (request) => users.update(identityOf(request), request.params.emailOrID, request.body),
  );

  app.delete(
    '/api/users/:emailOrID',
    {
      config: { role: 'admin' },
      schema: { tags, summary: 'Delete User', params: EmailOrIdParams, response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 422) } },
    },
    async (request, reply) => {
      await users.remove(identityOf(request), request.params.emailOrID);
      return reply.status(204).send(null);
    },
  );
}
