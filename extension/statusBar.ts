import * as vscode from 'vscode';
import { ENGINE_NAMES } from '../common/backends';
import type { ServerStatus } from '../common/protocol';

/** "vLLM" / "SGLang" when a serving engine routes the documents. */
function engineName(s: ServerStatus): string | undefined {
  const kind = s.backend?.kind;
  return kind && kind !== 'onnx' ? ENGINE_NAMES[kind] : undefined;
}

/** The analysis of the document in the active editor, as the status bar shows it. */
export interface ActiveAnalysis {
  name: string;
  tokens: number;
  ms: number;
  truncated: boolean;
  windows: number;
  /** a notebook cell's prefix, in words (common/cellContextCaption.ts) */
  context?: string;
}

/**
 * One status bar item that tells the truth: loading, ready (model · provider · the active document's tokens and ms ·
 * rules), or the error. The token count is the active editor's (activeDocumentStatus.ts), never the document the
 * server happened to analyse last.
 */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('moeLens.status', vscode.StatusBarAlignment.Right, 100);
  private last: ServerStatus = { state: 'starting', activeRules: 0 };
  private active: ActiveAnalysis | undefined;

  constructor() {
    this.item.name = 'MoE Lens';
    this.item.command = 'moeLens.showOutput';
    this.show({ state: 'starting', activeRules: 0 });
    this.item.show();
  }

  /** The active editor's analysis changed (undefined: no analysed document is active). */
  setActive(a: ActiveAnalysis | undefined): void {
    this.active = a;
    this.show(this.last);
  }

  show(s: ServerStatus): void {
    this.last = s;
    const rules = s.activeRules ? ` · ${s.activeRules} steering rule${s.activeRules > 1 ? 's' : ''}` : '';
    this.item.backgroundColor = undefined;
    switch (s.state) {
      case 'starting':
      case 'loading':
        this.item.text = '$(loading~spin) MoE Lens';
        this.item.tooltip = s.message ?? 'Starting the MoE Lens server…';
        break;
      case 'ready': {
        const a = this.active;
        const m = s.model!;
        // While the server analyses (its message names the document) the pulse becomes a spinner.
        const icon = s.message ? '$(sync~spin)' : '$(pulse)';
        this.item.text = `${icon} MoE Lens: ${m.name} · ${engineName(s) ?? m.executionProvider}${m.weights ? ` · ${m.weights}` : ''}${a ? ` · ${a.tokens} tok · ${a.ms} ms` : ''}${rules}`;
        const md = new vscode.MarkdownString(`**MoE Lens** — ${m.name}\n\n${m.layers} layers × ${m.experts} experts, top-${m.topK}, context ${m.contextLength}, on **${m.executionProvider}**${m.weights ? `, ${m.weights} weights` : ''}`);
        if (a) md.appendMarkdown(`\n\n${a.name}: ${a.tokens} tokens in ${a.ms} ms${a.windows > 1 ? ` (${a.windows} windows)` : ''}${a.truncated ? ' — truncated at moeLens.maxTokens' : ''}${a.context ? `, ${a.context}` : ''}`);
        if (s.activeRules) md.appendMarkdown(`\n\n${s.activeRules} steering rule(s) active`);
        if (s.backend && s.backend.kind !== 'onnx') md.appendMarkdown(`\n\nRouted by ${engineName(s)} at ${s.backend.source}: expert ids only. ${s.backend.capabilities.steeringUnavailable ?? ''}`);
        if (s.message) md.appendMarkdown(`\n\n${s.message}…`);
        md.appendMarkdown('\n\nClick to show the log.');
        this.item.tooltip = md;
        break;
      }
      case 'error':
        // A remote engine that stopped answering keeps its model: the text names the engine, the tooltip says why.
        this.item.text = `$(error) MoE Lens${engineName(s) ? `: ${engineName(s)} unavailable` : ''}`;
        this.item.tooltip = `MoE Lens: ${s.message ?? 'error'} — click for the log`;
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        break;
    }
  }

  /** The server process is down (crash, restart in progress). */
  showStopped(reason: string): void {
    this.item.text = '$(debug-disconnect) MoE Lens';
    this.item.tooltip = reason;
    this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
  }

  get text(): string {
    return this.item.text;
  }

  dispose(): void {
    this.item.dispose();
  }
}
