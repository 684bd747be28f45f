import { Type, type Static } from 'typebox';
import { MAX_EMAIL_LENGTH } from '../users/email.js';
import { PASSWORD_MAX_LENGTH } from './password.js';

/** Bodies of the local login routes (`openapi.LocalUserRequest`). */

export const LocalRegisterRequest = Type.Object({
  email: Type.String(),
  password: Type.String({ description: '8 to 1024 characters' }),
  name: Type.Optional(Type.String()),
});
export type LocalRegisterRequest = Static<typeof LocalRegisterRequest>;

// Bounded, since failed logins are remembered by email and every password is hashed.
export const LocalLoginRequest = Type.Object({
  email: Type.String({ maxLength: MAX_EMAIL_LENGTH }),
  password: Type.String({ maxLength: PASSWORD_MAX_LENGTH }),
});
export type LocalLoginRequest = Static<typeof LocalLoginRequest>;
