// The pure core of ServerStatusStore: which status changes the views that show the model (the Experts tree, quick
// picks) must redraw for. No vscode import: unit-tested outside an editor host (test/unit/extensionStores.test.ts).
import type { ServerStatus } from '../common/protocol';

/** True when the model appeared, changed or went, or its expert labels arrived or went. */
export function modelChanged(was: ServerStatus, now: ServerStatus): boolean {
  return now.state !== was.state || now.model?.name !== was.model?.name || !!now.model?.labels !== !!was.model?.labels;
}
