import { ConflictError, NotFoundError, UnprocessableError } from '../../errors.js';
import { ADMIN_GROUP } from '../auth/identity.js';
import type { GroupStore } from './group-store.js';

export function createGroupService(deps: {
  store: Pick<GroupStore, 'list' | 'exists' | 'insert' | 'delete'>;
  /** Called after every change, so cached logins see it at once. */
  onChange: () => void;
}) {
  const { store } = deps;
  return {
    list(): Promise<string[]> {
      return store.list();
    },

    async create(name: string): Promise<{ name: string }> {
      if ((await store.exists(name)) || !(await store.insert(name))) throw new ConflictError(`group ${name} already exists`);
      return { name };
    },

    /** Deletes the group and takes every user out of it. */
    async remove(name: string): Promise<void> {
      if (name === ADMIN_GROUP) throw new UnprocessableError(`cannot delete admin group ${name}`);
      if (!(await store.delete(name))) throw new NotFoundError('group not found');
      deps.onChange();
    },
  };
}

export type GroupService = ReturnType<typeof createGroupService>;
