import { Type, type TSchema } from 'typebox';

/** Schemas shared by every route. */

export const ErrorBody = Type.Object({ message: Type.String() }, { $id: 'HTTPError' });

export const errorResponses = (...statuses: number[]): Record<number, TSchema> =>
  Object.fromEntries(statuses.map((status) => [status, Type.Ref('HTTPError')]));

export const NameOrIdParams = Type.Object({ nameOrID: Type.String() });

export const StringMap = Type.Record(Type.String(), Type.String());
