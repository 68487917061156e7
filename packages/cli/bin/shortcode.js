#!/usr/bin/env node
// The shortcode CLI runs its TypeScript source through tsx, so no build step is needed.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
