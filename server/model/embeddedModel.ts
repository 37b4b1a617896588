import { join } from 'node:path';

/** The embedded model's folder. The server and the CLI are bundles in dist/, beside media/: dist/*.js -> media/model. */
export const embeddedModelDir = (): string => join(__dirname, '..', 'media', 'model');
