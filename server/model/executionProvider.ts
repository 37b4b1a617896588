// Which onnxruntime execution provider runs the model, and what to tell the user when the one they asked for cannot.
// onnxruntime-node 1.30 bundles the CPU and WebGPU providers; CUDA is a separate library that its install script
// downloads only when ONNXRUNTIME_NODE_INSTALL=cuda12 (see README), so it is usually absent.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ExecutionProviderSetting } from '../../common/protocol';

export interface BackendInfo {
  name: string;
  /** shipped inside onnxruntime-node (true) or a separately installed provider library (false) */
  bundled: boolean;
}

/** The backends onnxruntime-node was built with, e.g. [{cpu, bundled}, {webgpu, bundled}, {cuda, not bundled}]. */
export function supportedBackends(): BackendInfo[] {
  try {
    return ort.listSupportedBackends();
  } catch {
    return [{ name: 'cpu', bundled: true }];
  }
}

/** Whether the CUDA provider library is on disk next to the onnxruntime binding (listed ≠ installed). */
export function cudaLibraryInstalled(): boolean {
  try {
    const dir = join(dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
    return ['libonnxruntime_providers_cuda.so', 'onnxruntime_providers_cuda.dll'].some((f) => existsSync(join(dir, f)));
  } catch {
    return false;
  }
}

/**
 * The providers to try for a setting, best first. "auto" tries CUDA only where its library is installed (asking for
 * it otherwise just logs native errors) and then CPU, which is always there. WebGPU is used only when asked for: on a
 * machine without a GPU driver it fails, and on one with a driver CPU is still the safer default for a tiny model.
 */
export function providerCandidates(setting: ExecutionProviderSetting, backends: BackendInfo[] = supportedBackends(), cudaInstalled = cudaLibraryInstalled()): string[] {
  switch (setting) {
    case 'cpu':
      return ['cpu'];
    case 'cuda':
      return ['cuda'];
    case 'webgpu':
      return ['webgpu'];
    default:
      return backends.some((b) => b.name === 'cuda') && cudaInstalled ? ['cuda', 'cpu'] : ['cpu'];
  }
}

/** A sentence for a provider that was asked for by name and could not start (the model itself loads on CPU). */
export function providerUnavailableMessage(provider: string, detail: string): string {
  const backends = supportedBackends().map((b) => `${b.name}${b.bundled ? '' : ' (not bundled)'}`).join(', ');
  const hint =
    provider === 'cuda'
      ? cudaLibraryInstalled()
        ? 'the CUDA provider library is installed but did not start: check the CUDA 12 / cuDNN 9 runtime and the GPU driver'
        : 'the CUDA provider library is not installed: reinstall onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 on a machine with internet access'
      : provider === 'webgpu'
        ? 'WebGPU needs a GPU adapter (on Linux a Vulkan driver)'
        : `onnxruntime-node here supports: ${backends}`;
  return `execution provider "${provider}" is not available (${hint}); choose "auto" or "cpu" instead. onnxruntime said: ${detail}`;
}
