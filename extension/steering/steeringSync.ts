// The core of SteeringStore, free of vscode (so `npm run test:fast` tests it outside an editor host): the rules as
// the user set them, kept in sync with the server. The order is the contract: the server validates first, and only
// the rules it accepted are stored and announced, so a refused change leaves the stored state as it was.
import type { SteeringRule } from '../../common/protocol';

/** What the core needs from its host (SteeringStore gives it a Memento, the language client and vscode's UI). */
export interface SteeringSyncHost {
  /** the stored rules (workspace state) */
  stored(): readonly SteeringRule[];
  store(rules: readonly SteeringRule[]): Promise<void>;
  /** moeLens/setSteering when a server is running: the state it accepted; undefined with no server */
  send(rules: readonly SteeringRule[]): Promise<readonly SteeringRule[] | undefined>;
  changed(rules: readonly SteeringRule[]): void;
  warn(message: string): void;
}

/** The JSON-RPC code of a refused parameter (vscode-jsonrpc's ErrorCodes.InvalidParams). */
export const INVALID_PARAMS = -32602;

export class SteeringSync {
  constructor(private readonly host: SteeringSyncHost) {}

  get rules(): readonly SteeringRule[] {
    return this.host.stored();
  }

  /** Replaces the whole state; throws (with the server's message) if the server refuses it. */
  async apply(rules: readonly SteeringRule[]): Promise<void> {
    const accepted = (await this.host.send(rules)) ?? rules;
    await this.host.store(accepted);
    this.host.changed(accepted);
  }

  /**
   * After (re)start: give the server the stored rules. Rules the new model refuses (InvalidParams) are cleared with a
   * warning; any other failure (the model did not load) keeps them for the next start.
   */
  async resend(): Promise<void> {
    if (!this.rules.length) return;
    try {
      await this.apply(this.rules);
    } catch (e) {
      if ((e as { code?: number }).code !== INVALID_PARAMS) return;
      this.host.warn(`the saved steering rules were refused and cleared: ${(e as Error).message}`);
      await this.host.store([]);
      this.host.changed([]);
    }
  }
}
