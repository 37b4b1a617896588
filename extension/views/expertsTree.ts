import * as vscode from 'vscode';
import { shareText } from '../../common/shareText';
import { plainLabel } from '../../common/labelText';
import type { ModelInfo } from '../../common/protocol';
import type { Ctx } from '../ctx';
import { expertUsage } from '../../common/routingLayout';
import { describeRule, ruleFor, toggledRules } from '../../common/steeringRules';

/** A row of the Experts view. The shape {layer, expert} doubles as the argument of the steering commands. */
export type ExpertNode = { kind: 'layer'; layer: number } | { kind: 'expert'; layer: number; expert: number };

/**
 * Layers → experts with their usage on the active document (share of tokens whose top-k includes the expert) and a
 * checkbox per expert: unchecked = disabled for that layer. A view over the routing and steering stores (GitLens
 * style): it keeps no state of its own.
 */
export class ExpertsTree implements vscode.TreeDataProvider<ExpertNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ExpertNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly view: vscode.TreeView<ExpertNode>;
  private readonly disposables: vscode.Disposable[] = [];
  private model?: ModelInfo;
  private usage?: number[][];

  constructor(private readonly ctx: Ctx) {
    this.view = vscode.window.createTreeView('moeLens.experts', { treeDataProvider: this, manageCheckboxStateManually: true, showCollapseAll: true });
    this.disposables.push(
      this.view,
      this.changed,
      this.view.onDidChangeCheckboxState((e) => void this.onCheckboxes(e)),
      vscode.window.onDidChangeActiveTextEditor(() => this.refresh()),
      ctx.routing.onDidChange(({ uri }) => uri === vscode.window.activeTextEditor?.document.uri.toString() && this.refresh()),
      ctx.steering.onDidChange(() => this.refresh()),
      ctx.status.onDidChangeModel(() => this.refresh()),
    );
  }

  /** Re-reads model and usage, then redraws (cheap: L×E rows). */
  refresh(): void {
    this.changed.fire(undefined);
  }

  async getChildren(node?: ExpertNode): Promise<ExpertNode[]> {
    if (!node) {
      this.model = await this.ctx.model();
      const ed = vscode.window.activeTextEditor;
      const r = ed && this.ctx.routing.peek(ed.document.uri.toString());
      this.usage = r && !r.partial && this.model && r.model.name === this.model.name ? expertUsage(r).active : undefined;
      this.view.message = this.model ? undefined : 'No model is loaded yet (see the MoE Lens status bar item).';
      return this.model ? [...Array(this.model.layers).keys()].map((layer) => ({ kind: 'layer', layer })) : [];
    }
    if (node.kind === 'layer' && this.model) return [...Array(this.model.experts).keys()].map((expert) => ({ kind: 'expert', layer: node.layer, expert }));
    return [];
  }

  getTreeItem(node: ExpertNode): vscode.TreeItem {
    const rules = this.ctx.steering.rules;
    if (node.kind === 'layer') {
      const steered = rules.filter((r) => r.layer === node.layer || r.layer === '*').length;
      const item = new vscode.TreeItem(`Layer ${node.layer}`, node.layer === 0 ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `layer-${node.layer}`;
      item.description = steered ? `${steered} steered` : undefined;
      return item;
    }
    const rule = ruleFor(rules, node.layer, node.expert);
    const use = this.usage?.[node.layer]?.[node.expert];
    const k = this.ctx.status.status.model?.topK ?? 1;
    const raw = this.ctx.labels()?.[node.layer]?.[node.expert];
    const label = raw === undefined ? undefined : plainLabel(raw); // from a file: no codicons, no control characters
    const item = new vscode.TreeItem(`Expert ${node.expert}`, vscode.TreeItemCollapsibleState.None);
    item.id = `expert-${node.layer}-${node.expert}`;
    // Usage and steering first: a long label is cut off at the view's edge, the numbers must not be.
    item.description = [use !== undefined ? shareText(use, k) : '', rule && rule.mode !== 'disable' ? describeRule(rule).replace(/^E\d+ @ [^:]+: /, '') : '', label ?? ''].filter(Boolean).join(' · ');
    item.checkboxState = rule?.mode === 'disable' ? vscode.TreeItemCheckboxState.Unchecked : vscode.TreeItemCheckboxState.Checked;
    item.tooltip = `Layer ${node.layer}, expert ${node.expert}${use !== undefined ? `: ${shareText(use, k)} of the active document (the share of its tokens with this expert among their top ${k}; a layer sums to ${k * 100}%)` : ''}${label ? `\nLabel (profile corpus): ${label}` : ''}${rule ? `\nSteering: ${describeRule(rule)}` : ''}\nUncheck to disable this expert in this layer.`;
    item.contextValue = rule ? 'moeLens.expert.steered' : 'moeLens.expert';
    return item;
  }

  private async onCheckboxes(e: vscode.TreeCheckboxChangeEvent<ExpertNode>): Promise<void> {
    if (!this.model) return;
    let rules = [...this.ctx.steering.rules];
    for (const [node, state] of e.items) {
      if (node.kind === 'expert') rules = toggledRules(rules, this.model.layers, node.layer, node.expert, state === vscode.TreeItemCheckboxState.Checked);
    }
    try {
      await this.ctx.steering.apply(rules);
    } catch (err) {
      void vscode.window.showErrorMessage(`MoE Lens: ${(err as Error).message}`);
      this.refresh(); // put the checkboxes back to the state in force
    }
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }
}
