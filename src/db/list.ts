import { sql, type SelectQueryBuilder } from 'kysely';
import type { ListQuery } from '../http/list-query.js';

/**
 * Applies a parsed list query to a Kysely select. `columns` maps each public filter and sort
 * name to its SQL column, so nothing from the query string reaches SQL except as a parameter.
 */
export type ColumnMap = Record<string, string>;

const escapeLike = (value: string) => value.replace(/[\\%_]/g, (c) => `\\${c}`);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function applyFilters<QB extends SelectQueryBuilder<any, any, any>>(qb: QB, query: ListQuery, columns: ColumnMap): QB {
  let out = qb;
  for (const filter of query.filters) {
    const column = columns[filter.field];
    if (!column) throw new Error(`No column mapped for filter ${filter.field}`);
    const ref = sql.ref(column);
    switch (filter.kind) {
      case 'exact':
      case 'enum':
        out = out.where(sql<boolean>`${ref}::text = ${filter.value}`) as QB;
        break;
      case 'partial':
        out = out.where(sql<boolean>`${ref}::text ILIKE ${'%' + escapeLike(String(filter.value)) + '%'}`) as QB;
        break;
      case 'date_min':
        out = out.where(sql<boolean>`${ref} >= ${filter.value}`) as QB;
        break;
      case 'date_max':
        out = out.where(sql<boolean>`${ref} <= ${filter.value}`) as QB;
        break;
    }
  }
  return out;
}

/** Sort, then the id as a tie-breaker so pages never overlap or skip rows. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function applySortAndPage<QB extends SelectQueryBuilder<any, any, any>>(qb: QB, query: ListQuery, columns: ColumnMap, idColumn: string): QB {
  let out = qb;
  for (const { field, desc } of query.sort) {
    const column = columns[field];
    if (!column) throw new Error(`No column mapped for sort ${field}`);
    out = out.orderBy(sql.ref(column), desc ? 'desc' : 'asc') as QB;
  }
  return out.orderBy(sql.ref(idColumn), 'asc').limit(query.limit).offset(query.offset) as QB;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function countRows(qb: SelectQueryBuilder<any, any, any>): Promise<number> {
  const row = await qb.clearSelect().clearOrderBy().select(sql<number>`count(*)`.as('total')).executeTakeFirst();
  return Number((row as { total?: number } | undefined)?.total ?? 0);
}
