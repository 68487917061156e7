import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { replaceReadmeSection, type BenchReport } from './report.js';

/** `npm run bench:readme`: regenerates the README's performance table from bench/results/latest.json. */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const report = JSON.parse(fs.readFileSync(path.join(root, 'bench', 'results', 'latest.json'), 'utf8')) as BenchReport;
const readmePath = path.join(root, 'README.md');
fs.writeFileSync(readmePath, replaceReadmeSection(fs.readFileSync(readmePath, 'utf8'), report));
console.error('README.md performance section regenerated from bench/results/latest.json');
