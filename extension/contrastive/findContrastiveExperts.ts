// "MoE Lens: Find Contrastive Experts": which experts are more active on text set A than on set B (SteerMoE's
// ΔP = P(active | A) − P(active | B)), and does switching the top N off matter more than switching off N random
// experts (MoTE's baseline)? The ranking goes to the routing panel's "Contrastive experts" view; one action disables
// or forces the top N.
import * as vscode from 'vscode';
import { LSPErrorCodes } from 'vscode-languageclient/node';
import { SteeringMethods, type ContrastiveParams, type ContrastiveResult, type TextSource } from '../../common/protocol';
import type { Ctx } from '../ctx';
import { rulesForRanking } from '../../common/steeringRules';
import { contrastiveCaption } from './contrastiveCaption';
import { pickTextSet } from './contrastiveSets';

export interface ContrastiveArgs {
  setA?: TextSource[];
  setB?: TextSource[];
  n?: number;
  randomDraws?: number;
  seed?: number;
  /** apply to the steering state without asking (scripts, tests) */
  apply?: 'disable' | 'force';
}

export async function findContrastiveExperts(ctx: Ctx, arg?: unknown): Promise<ContrastiveResult | undefined> {
  const a = (arg ?? {}) as ContrastiveArgs;
  const model = await ctx.model();
  if (!model) return void vscode.window.showErrorMessage('MoE Lens: no model is loaded (see the status bar).');
  const interactive = !a.setA || !a.setB;
  const A = a.setA ? { sources: a.setA, name: 'set A' } : await pickTextSet(ctx, 'A');
  if (!A) return undefined;
  const B = a.setB ? { sources: a.setB, name: 'set B' } : await pickTextSet(ctx, 'B');
  if (!B) return undefined;
  let n = a.n;
  if (n === undefined && interactive) {
    const v = await vscode.window.showInputBox({
      title: 'MoE Lens: how many experts to switch off for the effect measure (and the random baseline)?',
      value: '8',
      validateInput: (s) => (Number.isInteger(Number(s)) && Number(s) > 0 && Number(s) <= model.layers * model.experts ? undefined : `An integer from 1 to ${model.layers * model.experts}`),
    });
    if (!v) return undefined;
    n = Number(v);
  }
  const params: ContrastiveParams = { setA: A.sources, setB: B.sources, n, randomDraws: a.randomDraws, seed: a.seed };
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `MoE Lens: contrasting ${A.name} with ${B.name}`, cancellable: true },
    async (progress, token) => {
      progress.report({ message: 'routing both sets, then the top-N and random ablations' });
      try {
        return await ctx.request(SteeringMethods.contrastive, params, token);
      } catch (e) {
        if ((e as { code?: number }).code !== LSPErrorCodes.RequestCancelled && !token.isCancellationRequested) void vscode.window.showErrorMessage(`MoE Lens: the contrastive search failed: ${(e as Error).message}`);
        return undefined;
      }
    },
  );
  if (!result) return undefined;
  ctx.panel.showContrastive(result);
  // Disabling A's top experts moves the model away from A; forcing them moves it towards A.
  const apply = async (mode: 'disable' | 'force') => {
    const ranked = result.rows.filter((r) => r.deltaP > 0);
    await ctx.steering.tryApply(rulesForRanking(ctx.steering.rules, ranked, result.n, mode, model.topK));
  };
  if (a.apply) await apply(a.apply);
  else {
    const caption = contrastiveCaption(result);
    const top = result.rows.slice(0, 3).map((r) => `L${r.layer}·E${r.expert} ΔP ${r.deltaP.toFixed(2)}`).join(', ');
    const disable = `Disable Top ${result.n}`;
    const force = `Force Top ${result.n}`;
    void vscode.window.showInformationMessage(`MoE Lens: most specific to ${A.name}: ${top}. ${caption}`, disable, force).then(async (choice) => {
      if (choice === disable) await apply('disable');
      else if (choice === force) await apply('force');
    });
  }
  return result;
}
