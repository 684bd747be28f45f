import { Type, type Static } from 'typebox';

export const ApiKeyCreateRequest = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128, description: 'Human-readable name, unique' }),
  groups: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Groups of the identity the key acts as; "admin" makes it an admin' })),
});
export type ApiKeyCreateRequest = Static<typeof ApiKeyCreateRequest>;

export const ApiKeyUpdateRequest = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  groups: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Replaces the groups' })),
});
export type ApiKeyUpdateRequest = Static<typeof ApiKeyUpdateRequest>;

export const ApiKeyView = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    org_id: Type.String(),
    name: Type.String(),
    masked_key: Type.String(),
    status: Type.Union([Type.Literal('active'), Type.Literal('revoked')]),
    groups: Type.Array(Type.String()),
    created_by: Type.String(),
    created_at: Type.String(),
    deactivated_by: Type.Optional(Type.String()),
    deactivated_at: Type.Optional(Type.String()),
    last_used_at: Type.Optional(Type.String()),
  },
  { $id: 'APIKey' },
);
export type ApiKeyView = Static<typeof ApiKeyView>;

export const ApiKeyCreated = Type.Intersect([Type.Ref('APIKey'), Type.Object({ key: Type.String({ description: 'Shown only in this answer' }) })]);
export type ApiKeyCreated = ApiKeyView & { key: string };
