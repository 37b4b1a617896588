import { join } from 'node:path';

/** The repository root, from out/test/<suite>/x.test.js or test/<suite>/x.test.ts alike. */
export const repoRoot = process.cwd(); // tests run from the repository root (npm test)
export const embeddedModel = join(repoRoot, 'media', 'model');
export const distDir = join(repoRoot, 'dist');
