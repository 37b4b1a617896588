import * as vscode from 'vscode';
import type { BackendKind, ExecutionProviderSetting, ServerSettings } from '../common/protocol';

export type HeatmapMetric = 'expert' | 'entropy' | 'gate' | 'surprisal' | 'change' | 'off';
/** A layer index, or "mean" (entropy averaged over layers; for the other metrics: layer 0). */
export type HeatmapLayer = number | 'mean';

/** Every setting MoE Lens reads, read in this one place (rust-analyzer's config pattern). */
export class Config {
  static readonly section = 'moeLens';

  private get cfg(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(Config.section);
  }

  get server(): ServerSettings {
    return {
      modelPath: this.cfg.get<string>('modelPath', ''),
      executionProvider: this.cfg.get<ExecutionProviderSetting>('executionProvider', 'auto'),
      maxTokens: this.cfg.get<number>('maxTokens', 4096),
      backend: this.cfg.get<BackendKind>('backend', 'onnx'),
      remote: { url: this.remoteUrl, model: this.cfg.get<string>('remote.model', '') },
    };
  }

  /**
   * The engine URL: document text goes there, so in an untrusted workspace only the user's own (global) value is
   * passed, never one the workspace's settings bring (the setting is also restricted in package.json).
   */
  private get remoteUrl(): string {
    if (vscode.workspace.isTrusted) return this.cfg.get<string>('remote.url', '');
    return this.cfg.inspect<string>('remote.url')?.globalValue ?? '';
  }

  /** moeLens.continuation.*: what "Compare Continuation" generates */
  get continuation(): { maxNewTokens: number; temperature: number; seed: number } {
    return {
      maxNewTokens: this.cfg.get<number>('continuation.maxNewTokens', 64),
      temperature: this.cfg.get<number>('continuation.temperature', 0),
      seed: this.cfg.get<number>('continuation.seed', 0),
    };
  }

  get heatmapMetric(): HeatmapMetric {
    return this.cfg.get<HeatmapMetric>('heatmap.metric', 'expert');
  }

  get heatmapLayer(): HeatmapLayer {
    const v = this.cfg.get<number | string>('heatmap.layer', 0);
    return v === 'mean' ? 'mean' : Number.isInteger(Number(v)) ? Number(v) : 0;
  }

  async setHeatmap(metric: HeatmapMetric, layer?: HeatmapLayer): Promise<void> {
    await this.cfg.update('heatmap.metric', metric, vscode.ConfigurationTarget.Global);
    if (layer !== undefined) await this.cfg.update('heatmap.layer', layer, vscode.ConfigurationTarget.Global);
  }

  /**
   * The model is a property of the project when a trusted folder is open (workspace settings); otherwise (no folder, or
   * Restricted Mode, where workspace values of moeLens.modelPath are ignored) it goes to the user settings.
   */
  async setModelPath(path: string): Promise<void> {
    const inWorkspace = vscode.workspace.workspaceFolders?.length && vscode.workspace.isTrusted;
    await this.cfg.update('modelPath', path, inWorkspace ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global);
  }

  affectsServer(e: vscode.ConfigurationChangeEvent): boolean {
    return ['modelPath', 'executionProvider', 'maxTokens', 'backend', 'remote'].some((k) => e.affectsConfiguration(`${Config.section}.${k}`));
  }

  affectsHeatmap(e: vscode.ConfigurationChangeEvent): boolean {
    return e.affectsConfiguration(`${Config.section}.heatmap`);
  }
}
