import * as vscode from 'vscode';
import type { ServerStatus } from '../common/protocol';

/**
 * `when`/`enablement` context keys from what the server's backend can do: package.json greys out the steering
 * commands under moeLens.cannotSteer and the logit-based ones (Compare Continuation, Find Contrastive Experts) under
 * moeLens.noLogits. Negative keys, so nothing is greyed out before the server has said anything.
 */
export function setCapabilityContext(s: ServerStatus): void {
  const c = s.backend?.capabilities;
  void vscode.commands.executeCommand('setContext', 'moeLens.cannotSteer', !!c && c.steering.length === 0);
  void vscode.commands.executeCommand('setContext', 'moeLens.noLogits', !!c && !c.forward);
}
