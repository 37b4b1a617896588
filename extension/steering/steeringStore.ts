import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { Methods, type SteeringRule } from '../../common/protocol';
import { withoutRule } from '../../common/steeringRules';
import { SteeringSync } from './steeringSync';

const KEY = 'moeLens.steeringRules';

/**
 * The steering state as the user set it: persisted in workspace state (survives reloads), applied to the server
 * with moeLens/setSteering, re-sent after a server restart. The logic is SteeringSync's (steeringSync.ts); this class
 * gives it the Memento, the language client and the editor's messages.
 */
export class SteeringStore implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<readonly SteeringRule[]>();
  readonly onDidChange = this.emitter.event;
  private readonly sync: SteeringSync;

  constructor(memento: vscode.Memento, client: () => LanguageClient | undefined) {
    this.sync = new SteeringSync({
      stored: () => memento.get<SteeringRule[]>(KEY, []),
      store: async (rules) => memento.update(KEY, rules),
      send: async (rules) => {
        const c = client();
        return c?.isRunning() ? (await c.sendRequest(Methods.setSteering, { rules: [...rules] })).rules : undefined;
      },
      changed: (rules) => this.emitter.fire(rules),
      warn: (message) => void vscode.window.showWarningMessage(`MoE Lens: ${message}`),
    });
  }

  get rules(): readonly SteeringRule[] {
    return this.sync.rules;
  }

  /** Replaces the whole state; throws (with the server's message) if the server refuses it. */
  apply(rules: readonly SteeringRule[]): Promise<void> {
    return this.sync.apply(rules);
  }

  /** apply(), with a refusal shown to the user instead of thrown (the state stays as it was); true when applied. */
  async tryApply(rules: readonly SteeringRule[]): Promise<boolean> {
    try {
      await this.apply(rules);
      return true;
    } catch (e) {
      void vscode.window.showErrorMessage(`MoE Lens: ${(e as Error).message}`);
      return false;
    }
  }

  /** After (re)start: give the server the stored rules (SteeringSync.resend). */
  resend(): Promise<void> {
    return this.sync.resend();
  }

  /** Rules with (layer, expert) removed (a "*" rule stays unless layer is "*" too). */
  without(layer: number | '*', expert: number): SteeringRule[] {
    return withoutRule(this.rules, layer, expert);
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
