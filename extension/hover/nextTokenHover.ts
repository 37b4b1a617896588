// While steering is active, a second hover (beside the server's routing hover) shows what steering does to the
// model's prediction after the hovered token: the top-3 next tokens with and without steering and the KL divergence.
// It is a separate provider (GitLens style) because it needs two model calls, while the routing hover answers from
// the cached analysis at once; VS Code shows each hover part as it arrives.
import * as vscode from 'vscode';
import { analysedSelector } from '../../common/analysedDocuments';
import { SteeringMethods } from '../../common/protocol';
import type { Ctx } from '../ctx';
import { nextTokenMarkdown } from './nextTokenMarkdown';

export function registerNextTokenHover(ctx: Ctx): vscode.Disposable {
  return vscode.languages.registerHoverProvider(analysedSelector(), {
    async provideHover(doc, position, token) {
      if (!ctx.steering.rules.length) return undefined;
      try {
        const r = await ctx.request(SteeringMethods.nextTokenChange, { uri: doc.uri.toString(), offset: doc.offsetAt(position) }, token);
        if (token.isCancellationRequested) return undefined;
        const md = new vscode.MarkdownString(nextTokenMarkdown(r));
        return new vscode.Hover(md, new vscode.Range(doc.positionAt(r.range[0]), doc.positionAt(r.range[1])));
      } catch {
        return undefined; // best effort, like the routing hover: errors show in the status bar, not in a popup
      }
    },
  });
}
