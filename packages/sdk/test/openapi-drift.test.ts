import { describe, expect, it } from 'vitest';
import { committedFiles, currentDocument, typesFor } from '../scripts/openapi-document.js';

const HOW_TO_FIX = 'The API changed since packages/sdk/openapi.json was generated: run `npm run openapi` and commit packages/sdk/openapi.json and packages/sdk/src/generated/openapi.ts.';

describe('the SDK is generated from the current API', () => {
  it('the committed OpenAPI document is the one the server serves now', async () => {
    const [{ document }, current] = await Promise.all([committedFiles(), currentDocument()]);
    expect(document, HOW_TO_FIX).toBe(current);
  });

  it('the committed types are generated from the committed document', async () => {
    const { document, types } = await committedFiles();
    expect(types, 'packages/sdk/src/generated/openapi.ts is out of date: run `npm run openapi`.').toBe(await typesFor(document));
  });
});
