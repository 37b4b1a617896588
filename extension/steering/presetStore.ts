import type * as vscode from 'vscode';
import type { SteeringRule } from '../../common/protocol';

const KEY = 'moeLens.steeringPresets';

export interface SteeringPreset {
  name: string;
  rules: SteeringRule[];
  /** the model the preset was saved with (its manifest name) */
  model?: string;
  savedAt: string;
}

/**
 * Named steering presets. Kept in the extension's global state, not the workspace's: a set of experts worth switching
 * off ("no Python experts") is a property of the model, useful in every project.
 */
export class PresetStore {
  constructor(private readonly memento: vscode.Memento) {}

  list(): SteeringPreset[] {
    return Object.values(this.memento.get<Record<string, SteeringPreset>>(KEY, {})).sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): SteeringPreset | undefined {
    return this.memento.get<Record<string, SteeringPreset>>(KEY, {})[name];
  }

  async save(name: string, rules: readonly SteeringRule[], model?: string): Promise<SteeringPreset> {
    const preset: SteeringPreset = { name, rules: [...rules], model, savedAt: new Date().toISOString() };
    await this.memento.update(KEY, { ...this.memento.get<Record<string, SteeringPreset>>(KEY, {}), [name]: preset });
    return preset;
  }

  async delete(name: string): Promise<boolean> {
    const all = { ...this.memento.get<Record<string, SteeringPreset>>(KEY, {}) };
    if (!(name in all)) return false;
    delete all[name];
    await this.memento.update(KEY, all);
    return true;
  }
}
