import * as vscode from 'vscode';
import { ErrorCodes, type LanguageClient } from 'vscode-languageclient/node';
import { Methods, type SteeringRule } from '../../common/protocol';
import { withoutRule } from '../../common/steeringRules';

const KEY = 'moeLens.steeringRules';

/**
 * The steering state as the user set it: persisted in workspace state (survives reloads), applied to the server
 * with moeLens/setSteering, re-sent after a server restart. The server validates; a refused change leaves the
 * stored state as it was.
 */
export class SteeringStore implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<readonly SteeringRule[]>();
  readonly onDidChange = this.emitter.event;

  constructor(private readonly memento: vscode.Memento, private readonly client: () => LanguageClient | undefined) {}

  get rules(): readonly SteeringRule[] {
    return this.memento.get<SteeringRule[]>(KEY, []);
  }

  /** Replaces the whole state; throws (with the server's message) if the server refuses it. */
  async apply(rules: readonly SteeringRule[]): Promise<void> {
    const c = this.client();
    if (c?.isRunning()) {
      const state = await c.sendRequest(Methods.setSteering, { rules: [...rules] });
      rules = state.rules;
    }
    await this.memento.update(KEY, rules);
    this.emitter.fire(rules);
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

  /**
   * After (re)start: give the server the stored rules. Rules the new model refuses (InvalidParams) are cleared with a
   * message; any other failure (the model did not load) keeps them for the next start.
   */
  async resend(): Promise<void> {
    if (!this.rules.length) return;
    try {
      await this.apply(this.rules);
    } catch (e) {
      if ((e as { code?: number }).code !== ErrorCodes.InvalidParams) return;
      void vscode.window.showWarningMessage(`MoE Lens: the saved steering rules were refused and cleared: ${(e as Error).message}`);
      await this.memento.update(KEY, []);
      this.emitter.fire([]);
    }
  }

  /** Rules with (layer, expert) removed (a "*" rule stays unless layer is "*" too). */
  without(layer: number | '*', expert: number): SteeringRule[] {
    return withoutRule(this.rules, layer, expert);
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
