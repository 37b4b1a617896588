// What the routing panel says when the active document has no routing yet. Pure (no vscode) for the unit tests.
import type { ServerStatus } from '../../common/protocol';

/** Why a document has no routing yet, in the words of the server's actual state. */
export function noRoutingReason(fileName: string, state: ServerStatus['state'] | undefined): string {
  if (state === 'starting' || state === 'loading') return `No routing for ${fileName} yet: the model is loading (see the MoE Lens status bar item).`;
  if (state === 'error') return `No routing for ${fileName}: the model could not be used (click the MoE Lens status bar item for the log).`;
  return `No routing for ${fileName} yet: it is being analysed.`;
}
