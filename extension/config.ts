import * as vscode from 'vscode';
import type { ExecutionProviderSetting, ServerSettings } from '../common/protocol';

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

  async setModelPath(path: string): Promise<void> {
    await this.cfg.update('modelPath', path, vscode.ConfigurationTarget.Workspace);
  }

  affectsServer(e: vscode.ConfigurationChangeEvent): boolean {
    return ['modelPath', 'executionProvider', 'maxTokens'].some((k) => e.affectsConfiguration(`${Config.section}.${k}`));
  }

  affectsHeatmap(e: vscode.ConfigurationChangeEvent): boolean {
    return e.affectsConfiguration(`${Config.section}.heatmap`);
  }
}
