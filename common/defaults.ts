// Defaults, written once: package.json's setting defaults (test/unit/defaults.test.ts compares), the server's
// settings before the client sends any, the CLI and the steering features' fallbacks.
import type { NotebookContextMode, ServerSettings } from './protocol';

/** moeLens.modelPath ("" = the embedded model), moeLens.executionProvider, moeLens.maxTokens, moeLens.backend */
export const DEFAULT_SETTINGS = { modelPath: '', executionProvider: 'auto', maxTokens: 4096, backend: 'onnx' } as const satisfies ServerSettings;

/** moeLens.continuation.*: what Compare Continuation generates when nothing is set */
export const DEFAULT_CONTINUATION = { maxNewTokens: 64, temperature: 0, seed: 0 } as const;

/** moeLens.notebook.context: its values (package.json's enum) and its default */
export const NOTEBOOK_CONTEXT_MODES: readonly NotebookContextMode[] = ['cellsAbove', 'cellAlone'];
export const DEFAULT_NOTEBOOK_CONTEXT: NotebookContextMode = 'cellsAbove';
