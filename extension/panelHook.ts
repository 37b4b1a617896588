import type { Ctx } from './ctx';

/** The routing panel (webview) registers here; until it exists the command explains itself. */
export function registerPanel(_ctx: Ctx): { show(): void } {
  return {
    show: () => {
      void import('vscode').then((vscode) => vscode.window.showInformationMessage('MoE Lens: the routing panel is not available in this build.'));
    },
  };
}
