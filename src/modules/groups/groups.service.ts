import type { Updateable } from 'kysely';
import { NotFoundError, ValidationError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { formatDate } from '../../lib/time.js';
import { hasControlCharacters } from '../../lib/validate.js';
import type { ListQuery } from '../../http/list-query.js';
import type { OptIn } from '../optins/optins.schema.js';
import type { OptInsService } from '../optins/optins.service.js';
import type { GroupRow, GroupsRepo } from './groups.repo.js';
import { RESERVED_KEYWORDS, type CreateGroupInput, type Group, type UpdateGroupInput } from './groups.schema.js';
import type { GroupsTable } from './groups.tables.js';

export type GroupsService = ReturnType<typeof createGroupsService>;

const RESERVED: ReadonlySet<string> = new Set(RESERVED_KEYWORDS);
const isUniqueViolation = (error: unknown) => (error as { code?: string } | null)?.code === '23505';
const KEYWORD_TAKEN = 'The keyword is already used by another group of this account.';

export function toGroup(row: GroupRow, optIns: Map<string, OptIn>, includeKeyword: boolean): Group {
  const group: Group = {
    id: row.id,
    name: row.name,
    join_message: row.join_message,
    one_time_message: row.one_time_message,
    always_send_join: row.always_send_join,
    social_profiling: row.social_profiling,
    email_new_contact: row.email_new_contact,
    created_at: formatDate(row.created_at),
    updated_at: formatDate(row.updated_at),
    optin: row.optin_id ? (optIns.get(row.optin_id) ?? null) : null,
  };
  if (includeKeyword) {
    group.keyword = row.keyword ? { keyword: row.keyword, created_at: formatDate(row.keyword_created_at ?? row.created_at) } : null;
  }
  return group;
}

export function createGroupsService(deps: { groupsRepo: GroupsRepo; optIns: OptInsService }) {
  const repo = deps.groupsRepo;

  async function present(rows: GroupRow[], includeKeyword: boolean): Promise<Group[]> {
    const optIns = await deps.optIns.findMany(rows.map((r) => r.optin_id).filter((id): id is string => id !== null));
    return rows.map((r) => toGroup(r, optIns, includeKeyword));
  }

  async function checkCommon(accountId: string, input: UpdateGroupInput, selfId: string | null): Promise<void> {
    const errors: Record<string, string[]> = {};
    if (input.name !== undefined && (!input.name.trim() || hasControlCharacters(input.name))) errors.name = ['The name must be 1 to 100 printable characters.'];
    if (input.optin_id && !(await deps.optIns.find(input.optin_id))) errors.optin_id = ['The selected opt-in does not exist.'];
    if (input.keyword) {
      const keyword = input.keyword.toUpperCase();
      if (RESERVED.has(keyword)) errors.keyword = [`"${keyword}" is reserved for compliance (STOP, HELP, START and their synonyms) and cannot be a keyword.`];
      else {
        const owner = await repo.findByKeyword(accountId, keyword);
        if (owner && owner.id !== selfId) errors.keyword = [KEYWORD_TAKEN];
      }
    }
    if (Object.keys(errors).length > 0) throw new ValidationError(errors);
  }

  return {
    async list(accountId: string, query: ListQuery) {
      const { rows, total } = await repo.list(accountId, query);
      return { data: await present(rows, query.include.has('keyword')), total };
    },

    async get(accountId: string, id: string, includeKeyword: boolean): Promise<Group> {
      const row = await repo.findById(accountId, id);
      if (!row) throw new NotFoundError('Group not found.');
      return (await present([row], includeKeyword))[0]!;
    },

    /** The account's groups among `ids`; throws a 422 on `field` naming any that are not. */
    async requireOwned(accountId: string, ids: readonly string[], field: string): Promise<GroupRow[]> {
      const unique = [...new Set(ids)];
      const rows = await repo.findByIds(accountId, unique);
      if (rows.length !== unique.length) {
        const found = new Set(rows.map((r) => r.id));
        throw ValidationError.field(field, `Unknown group(s): ${unique.filter((id) => !found.has(id)).join(', ')}.`);
      }
      return rows;
    },

    async exists(accountId: string, id: string): Promise<boolean> {
      return (await repo.findById(accountId, id)) !== undefined;
    },

    async create(accountId: string, input: CreateGroupInput): Promise<Group> {
      await checkCommon(accountId, input, null);
      const keyword = input.keyword ? input.keyword.toUpperCase() : null;
      try {
        const row = await repo.insert({
          id: newId(),
          account_id: accountId,
          name: input.name.trim(),
          join_message: input.join_message ?? null,
          one_time_message: input.one_time_message ?? false,
          always_send_join: input.always_send_join ?? false,
          social_profiling: input.social_profiling ?? false,
          email_new_contact: input.email_new_contact ?? false,
          optin_id: input.optin_id ?? null,
          keyword,
          keyword_created_at: keyword ? new Date() : null,
        });
        return (await present([row], true))[0]!;
      } catch (error) {
        if (isUniqueViolation(error)) throw ValidationError.field('keyword', KEYWORD_TAKEN);
        throw error;
      }
    },

    async update(accountId: string, id: string, input: UpdateGroupInput): Promise<Group> {
      const current = await repo.findById(accountId, id);
      if (!current) throw new NotFoundError('Group not found.');
      await checkCommon(accountId, input, id);
      const changes: Updateable<GroupsTable> = { updated_at: new Date() };
      if (input.name !== undefined) changes.name = input.name.trim();
      if (input.join_message !== undefined) changes.join_message = input.join_message;
      if (input.one_time_message !== undefined) changes.one_time_message = input.one_time_message;
      if (input.always_send_join !== undefined) changes.always_send_join = input.always_send_join;
      if (input.social_profiling !== undefined) changes.social_profiling = input.social_profiling;
      if (input.email_new_contact !== undefined) changes.email_new_contact = input.email_new_contact;
      if (input.optin_id !== undefined) changes.optin_id = input.optin_id;
      if (input.keyword !== undefined) {
        const keyword = input.keyword ? input.keyword.toUpperCase() : null;
        if (keyword !== current.keyword) {
          changes.keyword = keyword;
          changes.keyword_created_at = keyword ? new Date() : null;
        }
      }
      try {
        const row = await repo.update(accountId, id, changes);
        if (!row) throw new NotFoundError('Group not found.');
        return (await present([row], true))[0]!;
      } catch (error) {
        if (isUniqueViolation(error)) throw ValidationError.field('keyword', KEYWORD_TAKEN);
        throw error;
      }
    },
  };
}
