import { Type, type Static } from 'typebox';

/** Query strings and answers of the OIDC login routes (`openapi.Login`). */

export const LoginQuery = Type.Object({
  redirect: Type.Optional(
    Type.String({ description: 'Where to go once logged in; must be on the API_URL host. Default: the CLI (`http://127.0.0.1:3587/callback`)' }),
  ),
  prompt: Type.Optional(Type.String({ description: 'Passed on to the identity provider (OIDC `prompt`)' })),
  screen_hint: Type.Optional(Type.String({ description: 'Passed on to the identity provider (Auth0)' })),
});
export type LoginQuery = Static<typeof LoginQuery>;

export const LoginResponse = Type.Object({ login_url: Type.String({ description: "The identity provider's authorize URL" }) });

export const CallbackQuery = Type.Object({
  state: Type.Optional(Type.String()),
  code: Type.Optional(Type.String()),
  error: Type.Optional(Type.String({ description: 'Set by the identity provider when the login failed there' })),
});
export type CallbackQuery = Static<typeof CallbackQuery>;
