/**
 * `npm run openapi`: writes the server's current OpenAPI document to packages/sdk/openapi.json
 * and regenerates the SDK's types (packages/sdk/src/generated/openapi.ts) from it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { currentDocument, DOCUMENT_PATH, TYPES_PATH, typesFor } from './openapi-document.js';

const document = await currentDocument();
const types = await typesFor(document);
await mkdir(path.dirname(TYPES_PATH), { recursive: true });
await writeFile(DOCUMENT_PATH, document);
await writeFile(TYPES_PATH, types);
const paths = Object.keys((JSON.parse(document) as { paths: object }).paths).length;
console.log(`wrote ${path.relative(process.cwd(), DOCUMENT_PATH)} (${paths} paths) and ${path.relative(process.cwd(), TYPES_PATH)}`);
