// Defaults, written once: package.json's setting defaults (test/unit/defaults.test.ts compares), the server's
// settings before the client sends any, the CLI and the steering features' fallbacks.
import type { ServerSettings } from './protocol';

/** moeLens.modelPath ("" = the embedded model), moeLens.executionProvider, moeLens.maxTokens */
export const DEFAULT_SETTINGS: Readonly<ServerSettings> = { modelPath: '', executionProvider: 'auto', maxTokens: 4096 };

/** moeLens.continuation.*: what Compare Continuation generates when nothing is set */
export const DEFAULT_CONTINUATION = { maxNewTokens: 64, temperature: 0, seed: 0 } as const;
