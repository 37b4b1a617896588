import * as vscode from 'vscode';
import { DEFAULT_CONTINUATION, DEFAULT_NOTEBOOK_CONTEXT, DEFAULT_SETTINGS } from '../common/defaults';
import type { HeatmapLayer, HeatmapMetricId } from '../common/heatmapMetrics';
import type { BackendKind, ExecutionProviderSetting, NotebookContextMode, ServerSettings } from '../common/protocol';

/** moeLens.heatmap.metric: a metric of common/heatmapMetrics.ts, or "off". */
export type HeatmapChoice = HeatmapMetricId | 'off';

/** Every setting MoE Lens reads, read in this one place (rust-analyzer's config pattern). */
export class Config {
  static readonly section = 'moeLens';

  private get cfg(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(Config.section);
  }

  get server(): ServerSettings {
    return {
      modelPath: this.cfg.get<string>('modelPath', DEFAULT_SETTINGS.modelPath),
      executionProvider: this.cfg.get<ExecutionProviderSetting>('executionProvider', DEFAULT_SETTINGS.executionProvider),
      maxTokens: this.cfg.get<number>('maxTokens', DEFAULT_SETTINGS.maxTokens),
      backend: this.cfg.get<BackendKind>('backend', DEFAULT_SETTINGS.backend),
      remote: { url: this.remoteUrl, model: this.cfg.get<string>('remote.model', '') },
      hover: { layers: this.hoverLayers, layer: this.heatmapLayer },
      notebook: { context: this.cfg.get<NotebookContextMode>('notebook.context', DEFAULT_NOTEBOOK_CONTEXT) },
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
      maxNewTokens: this.cfg.get<number>('continuation.maxNewTokens', DEFAULT_CONTINUATION.maxNewTokens),
      temperature: this.cfg.get<number>('continuation.temperature', DEFAULT_CONTINUATION.temperature),
      seed: this.cfg.get<number>('continuation.seed', DEFAULT_CONTINUATION.seed),
    };
  }

  /** moeLens.hover.layers: "compact" (the heatmap's layer) or "all" */
  get hoverLayers(): 'compact' | 'all' {
    return this.cfg.get<string>('hover.layers', 'compact') === 'all' ? 'all' : 'compact';
  }

  async setHoverLayers(v: 'compact' | 'all'): Promise<void> {
    await this.cfg.update('hover.layers', v, vscode.ConfigurationTarget.Global);
  }

  get heatmapMetric(): HeatmapChoice {
    return this.cfg.get<HeatmapChoice>('heatmap.metric', 'expert');
  }

  get heatmapLayer(): HeatmapLayer {
    const v = this.cfg.get<number | string>('heatmap.layer', 0);
    return v === 'mean' ? 'mean' : Number.isInteger(Number(v)) ? Number(v) : 0;
  }

  async setHeatmap(metric: HeatmapChoice, layer?: HeatmapLayer): Promise<void> {
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

  /**
   * A model of this machine (one imported into the extension's global storage, or the embedded one) goes to the user
   * settings: it is not a property of a project, the path means nothing on another machine, and user values also
   * apply in Restricted Mode (moeLens.modelPath is machine-overridable and restricted). A trusted workspace that sets
   * its own value would hide the user's, so that value is replaced too.
   */
  async setMachineModelPath(path: string): Promise<void> {
    await this.cfg.update('modelPath', path, vscode.ConfigurationTarget.Global);
    const here = this.cfg.inspect<string>('modelPath')?.workspaceValue;
    if (vscode.workspace.isTrusted && here !== undefined && here !== path) await this.cfg.update('modelPath', path, vscode.ConfigurationTarget.Workspace);
  }

  affectsHeatmap(e: vscode.ConfigurationChangeEvent): boolean {
    return e.affectsConfiguration(`${Config.section}.heatmap`);
  }
}
