// The engine and provider lists, each written once: package.json's moeLens.backend and moeLens.executionProvider
// enums equal them (test/unit/defaults.test.ts), the server's settings reader and the CLI's --provider check read
// them, and messages name the engines from here. A module of its own, with no protocol import, so that the CLI
// bundle does not pull in the protocol library for a list of strings.

/** moeLens.executionProvider's values */
export const EXECUTION_PROVIDERS = ['auto', 'cuda', 'webgpu', 'cpu'] as const;
export type ExecutionProviderSetting = (typeof EXECUTION_PROVIDERS)[number];

/** moeLens.backend's values */
export const BACKEND_KINDS = ['onnx', 'vllm', 'sglang'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

/** A serving engine (server/model/remote/engines.ts), and how messages name it. */
export type EngineKind = Exclude<BackendKind, 'onnx'>;
export const ENGINE_NAMES: Record<EngineKind, string> = { vllm: 'vLLM', sglang: 'SGLang' };
