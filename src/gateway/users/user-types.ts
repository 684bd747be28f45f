import { Type, type Static } from 'typebox';

/** Users and groups on the wire, with the reference's field names (`openapi.User`). */

export const USER_STATUSES = ['active', 'inactive', 'invited'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

const GroupName = Type.String({ minLength: 1 });

export const UserInput = Type.Object({
  name: Type.Optional(Type.String()),
  email: Type.String({ description: 'Unique whatever its case; immutable after creation' }),
  status: Type.Optional(Type.String({ description: 'active, inactive or invited; local login creates users active' })),
  groups: Type.Optional(Type.Array(GroupName, { description: 'Replaces the groups; `admin` and `auditor` are roles' })),
  password: Type.Optional(
    Type.String({ description: 'Local login password, 8 to 1024 characters; stored as a scrypt hash and never returned' }),
  ),
  slack_id: Type.Optional(Type.String()),
  picture: Type.Optional(Type.String()),
});
export type UserInput = Static<typeof UserInput>;

const userFields = {
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  email: Type.String(),
  status: Type.String({ description: 'active, inactive or invited' }),
  verified: Type.Boolean(),
  role: Type.String({ description: 'admin or standard' }),
  slack_id: Type.String(),
  picture: Type.String(),
  groups: Type.Array(Type.String()),
};

export const User = Type.Object(userFields, { $id: 'User' });
export type User = Static<typeof User>;

export const UserInfo = Type.Object(
  {
    ...userFields,
    id: Type.String({ description: 'The user id, or the API key owner for API keys' }),
    role: Type.String({ description: 'admin, auditor or standard' }),
    is_admin: Type.Boolean(),
    is_multitenant: Type.Boolean(),
    tenancy_type: Type.String(),
  },
  { $id: 'UserInfo' },
);
export type UserInfo = Static<typeof UserInfo>;

export const UserGroup = Type.Object({ name: GroupName });

/** A user as stored, without the password hash. */
export interface UserRecord {
  id: string;
  /** The login subject: the email for local logins. */
  subject: string;
  email: string;
  name: string;
  status: UserStatus;
  verified: boolean;
  slackId: string;
  picture: string;
  groups: string[];
}

/** A write; `passwordHash` undefined keeps the stored hash. */
export interface UserWrite extends UserRecord {
  passwordHash?: string;
}
