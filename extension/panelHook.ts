import type { Ctx } from './ctx';
import { RoutingPanel } from './panel/routingPanel';

/** Registers the routing panel (webview view + beside-the-editor panel). */
export function registerPanel(ctx: Ctx): { show(beside?: boolean): void } {
  const panel = new RoutingPanel(ctx);
  ctx.extension.subscriptions.push(panel);
  return { show: (beside) => void panel.show(beside) };
}
