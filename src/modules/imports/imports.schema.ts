import { Type, type Static } from '@sinclair/typebox';
import type { ListSpec } from '../../http/list-query.js';

export const ImportSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    status: Type.Union(['receiving', 'queued', 'processing', 'completed', 'failed'].map((s) => Type.Literal(s)), {
      description: 'receiving (upload in progress), queued, processing, completed or failed',
    }),
    format: Type.Union([Type.Literal('csv'), Type.Literal('ndjson')]),
    validate_only: Type.Boolean({ description: 'Rows were checked and their outcomes reported, but no contact was written' }),
    update_existing: Type.Boolean(),
    group_ids: Type.Array(Type.String({ format: 'uuid' })),
    columns: Type.Array(Type.String(), { description: 'CSV: the columns understood from the header row' }),
    total_rows: Type.Integer(),
    processed_rows: Type.Integer(),
    created: Type.Integer(),
    updated: Type.Integer(),
    skipped: Type.Integer(),
    invalid: Type.Integer(),
    error: Type.Union([Type.String(), Type.Null()]),
    started_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    completed_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'ContactImport', title: 'Contact import' },
);
export type Import = Static<typeof ImportSchema>;

export const OUTCOMES = ['created', 'updated', 'skipped_duplicate', 'invalid'] as const;

export const ImportRowSchema = Type.Object(
  {
    row: Type.Integer({ description: 'Data row number, from 1 (the CSV header is not counted)' }),
    phone_number: Type.Union([Type.String(), Type.Null()], { description: 'E.164 when valid, else as given' }),
    outcome: Type.Union([...OUTCOMES.map((o) => Type.Literal(o)), Type.Null()], { description: 'null until the row is processed' }),
    contact_id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    message: Type.Union([Type.String(), Type.Null()], { description: 'Why the row is invalid or skipped' }),
  },
  { $id: 'ContactImportRow', title: 'Contact import row' },
);
export type ImportRow = Static<typeof ImportRowSchema>;

export const ImportQuery = Type.Object({
  validate_only: Type.Optional(Type.Boolean({ default: false, description: 'Check every row and report outcomes without writing contacts' })),
  update_existing: Type.Optional(Type.Boolean({ default: false, description: 'Update contacts that already exist (non-empty cells only) instead of skipping them' })),
  group_id: Type.Optional(Type.Union([Type.String({ format: 'uuid' }), Type.Array(Type.String({ format: 'uuid' }), { maxItems: 20 })], { description: 'Add every imported contact to these groups' })),
});

export const importListSpec: ListSpec = {
  filters: { status: { enum: ['receiving', 'queued', 'processing', 'completed', 'failed'] } },
  sorts: ['created_at', 'updated_at'],
  defaultSort: '-created_at',
  includes: [],
};

export const importRowListSpec: ListSpec = {
  filters: { outcome: { enum: OUTCOMES } },
  sorts: ['row'],
  defaultSort: 'row',
  includes: [],
};
