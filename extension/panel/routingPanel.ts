import { randomBytes } from 'node:crypto';
import { isAnalysedScheme } from '../../common/analysedDocuments';
import * as vscode from 'vscode';
import type { ContrastiveResult, ContrastiveRow, RoutingResult, ServerStatus, StatsResult, SteeringRule } from '../../common/protocol';
import { withoutRule } from '../../common/steeringRules';
import type { ImportanceResult, OffloadResult, PruneResult } from '../../common/pruneProtocol';
import { parseWebviewMessage, type HostMessage, type PruneAction } from '../../common/webviewMessages';
import { contrastiveCaption } from '../contrastive/contrastiveCaption';
import type { RoutingStore } from '../routingStore';
import type { ServerStatusStore } from '../serverStatus';
import type { SteeringStore } from '../steering/steeringStore';
import { panelHtml } from './panelHtml';
import { noRoutingReason } from './noRoutingReason';

export const PANEL_VIEW_ID = 'moeLens.routingPanel';
const EDITOR_PANEL_TYPE = 'moeLens.routingPanelEditor';

/** What the panel needs from the rest of the extension (the routing and steering stores, the editor). */
export interface PanelModel {
  getRouting(uri: string): Promise<RoutingResult | undefined>;
  onDidChangeRouting: vscode.Event<{ uri: string }>;
  getSteering(): SteeringRule[];
  /** replaces the whole steering state; rejects (with the server's message) when the rules are refused */
  applySteering(rules: SteeringRule[]): Promise<void>;
  revealToken(uri: string, start: number, end: number): void;
  /** optional: keeps the panel's steering marks current when rules change elsewhere (tree, commands) */
  onDidChangeSteering?: vscode.Event<readonly SteeringRule[]>;
  /** optional: where malformed webview messages are reported (default console.warn) */
  log?(message: string): void;
  /** optional: the server's state, so that "loading" is said only while the model loads */
  serverState?(): ServerStatus['state'];
}


/**
 * The routing panel, as a view in the MoE Lens container and, on request, as an editor-area panel beside the
 * editor; both show the same HTML and follow the active text editor and its selection. Every message from the
 * webview is validated with parseWebviewMessage; malformed ones are logged and ignored. The webviews keep no
 * context when hidden: they restore their view from vscode.getState and ask for data again with "ready".
 */
export class RoutingPanelHost implements vscode.WebviewViewProvider, vscode.Disposable {
  private readonly webviews = new Map<vscode.Webview, vscode.Disposable>();
  private readonly disposables: vscode.Disposable[] = [];
  private lastEditor?: vscode.TextEditor;
  private contrastive?: { rows: ContrastiveRow[]; caption?: string };
  private statistics?: StatsResult;
  private pruning?: Extract<HostMessage, { type: 'pruning' }>;
  private offload?: Extract<HostMessage, { type: 'offload' }>;
  private readonly pruneActions = new vscode.EventEmitter<PruneAction>();
  /** the pruning view's buttons (Apply as Steering, Export Pruned Model…, Use Exported Model) */
  readonly onPruneAction = this.pruneActions.event;
  private selectionTimer?: ReturnType<typeof setTimeout>;

  constructor(private readonly extensionUri: vscode.Uri, private readonly model: PanelModel) {
    this.lastEditor = vscode.window.activeTextEditor;
    this.disposables.push(
      vscode.window.registerWebviewViewProvider(PANEL_VIEW_ID, this),
      vscode.window.onDidChangeActiveTextEditor((e) => e && this.follow(e)),
      vscode.window.onDidChangeTextEditorSelection((e) => e.textEditor === this.lastEditor && this.queueSelection(e.textEditor)),
      vscode.workspace.onDidCloseTextDocument((d) => {
        if (this.lastEditor?.document !== d) return;
        this.lastEditor = undefined;
        this.broadcast({ type: 'clear', reason: 'Open a text document to see how the model routes its tokens.' });
      }),
      model.onDidChangeRouting(({ uri }) => this.lastEditor?.document.uri.toString() === uri && void this.sendRouting(this.lastEditor)),
    );
    if (model.onDidChangeSteering) this.disposables.push(model.onDidChangeSteering((rules) => this.broadcast({ type: 'steering', rules: [...rules] })));
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.attach(view.webview);
    view.onDidDispose(() => this.detach(view.webview));
  }

  /** Reveals the view in the MoE Lens container, or opens the panel beside the editor (keeping the editor focused). */
  async show(beside = false): Promise<void> {
    if (!beside) return void (await vscode.commands.executeCommand(`${PANEL_VIEW_ID}.focus`));
    const panel = vscode.window.createWebviewPanel(EDITOR_PANEL_TYPE, 'MoE Lens: routing', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { enableScripts: true, localResourceRoots: this.roots() });
    this.attach(panel.webview);
    panel.onDidDispose(() => this.detach(panel.webview));
  }

  /** Shows a moeLens/contrastive ranking in every open panel (kept for panels opened later) and reveals the view. */
  showContrastive(result: ContrastiveResult): void {
    this.contrastive = { rows: result.rows, caption: contrastiveCaption(result) };
    this.broadcast({ type: 'contrastive', ...this.contrastive });
    void this.show(false);
  }

  /** Shows a moeLens/stats result in every open panel's Statistics view (kept for panels opened later) and reveals it. */
  showStatistics(result: StatsResult): void {
    this.statistics = result;
    this.broadcast({ type: 'statistics', result });
    void this.show(false);
  }

  /** Shows a pruning curve (and the criterion's importance) in every open panel, kept for panels opened later. */
  showPruning(result: PruneResult, importance: ImportanceResult | undefined, caption: string, exported?: string): void {
    this.pruning = { type: 'pruning', result, caption, ...(importance ? { importance } : {}), ...(exported ? { exported } : {}) };
    this.broadcast(this.pruning);
    void this.show(false);
  }

  /** Shows an offloading simulation in every open panel, kept for panels opened later. */
  showOffload(result: OffloadResult, caption: string): void {
    this.offload = { type: 'offload', result, caption };
    this.broadcast(this.offload);
    void this.show(false);
  }

  private roots(): vscode.Uri[] {
    return [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')];
  }

  private attach(webview: vscode.Webview): void {
    webview.options = { enableScripts: true, localResourceRoots: this.roots() };
    const uri = (...p: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...p)).toString();
    webview.html = panelHtml({
      cspSource: webview.cspSource,
      nonce: randomBytes(18).toString('base64'),
      scriptUri: uri('dist', 'webview.js'),
      styleUri: uri('media', 'webview', 'panel.css'),
      codiconUri: uri('dist', 'codicon.css'),
    });
    this.webviews.set(webview, webview.onDidReceiveMessage((raw) => void this.onMessage(webview, raw)));
  }

  private detach(webview: vscode.Webview): void {
    this.webviews.get(webview)?.dispose();
    this.webviews.delete(webview);
  }

  private log(message: string): void {
    if (this.model.log) this.model.log(message);
    else console.warn(message);
  }

  private async onMessage(webview: vscode.Webview, raw: unknown): Promise<void> {
    const m = parseWebviewMessage(raw);
    if (!m) {
      let shown: string;
      try {
        shown = JSON.stringify(raw)?.slice(0, 200) ?? String(raw);
      } catch {
        shown = typeof raw;
      }
      return this.log(`routing panel: ignored a malformed message ${shown}`);
    }
    switch (m.type) {
      case 'ready':
        void webview.postMessage({ type: 'steering', rules: this.model.getSteering() } satisfies HostMessage);
        if (this.contrastive) void webview.postMessage({ type: 'contrastive', ...this.contrastive } satisfies HostMessage);
        if (this.statistics) void webview.postMessage({ type: 'statistics', result: this.statistics } satisfies HostMessage);
        // Replayed for a panel that was hidden: its data, without switching away from the view it restored.
        if (this.offload) void webview.postMessage({ ...this.offload, quiet: true } satisfies HostMessage);
        if (this.pruning) void webview.postMessage({ ...this.pruning, quiet: true } satisfies HostMessage);
        if (this.lastEditor) await this.sendRouting(this.lastEditor, webview);
        break;
      case 'revealToken':
        this.model.revealToken(m.uri, m.start, m.end);
        break;
      case 'steer': {
        const { layer, expert } = m.rule;
        await this.steer([...withoutRule(this.model.getSteering(), layer, expert), m.rule]);
        break;
      }
      case 'resetExpert':
        await this.steer(withoutRule(this.model.getSteering(), m.layer, m.expert));
        break;
      case 'pruneAction':
        this.pruneActions.fire(m.action);
        break;
      case 'stateChanged':
        break; // the webview keeps its own state (vscode.setState); nothing here depends on it
    }
  }

  private async steer(rules: SteeringRule[]): Promise<void> {
    try {
      await this.model.applySteering(rules);
    } catch (e) {
      void vscode.window.showErrorMessage(`MoE Lens: ${(e as Error).message}`);
    }
  }

  private follow(editor: vscode.TextEditor): void {
    if (!isAnalysedScheme(editor.document.uri.scheme)) return; // keep showing the last analysed document
    this.lastEditor = editor;
    void this.sendRouting(editor);
  }

  private async sendRouting(editor: vscode.TextEditor, only?: vscode.Webview): Promise<void> {
    if (!this.webviews.size) return;
    const uri = editor.document.uri.toString();
    const r = await this.model.getRouting(uri);
    if (editor !== this.lastEditor) return; // the user moved on while the server worked
    if (r?.partial) return; // a long document's first windows: the panel waits for the whole (its axes count from 0)
    const send = (m: HostMessage) => (only ? void only.postMessage(m) : this.broadcast(m));
    const fileName = vscode.workspace.asRelativePath(editor.document.uri);
    if (!r) return send({ type: 'clear', reason: noRoutingReason(fileName, this.model.serverState?.()) });
    // Token texts come from the document the offsets were computed on; a newer edit only shifts the hover text.
    const text = editor.document.getText();
    const tokenTexts = Array.from({ length: r.tokens }, (_, t) => text.slice(r.offsets[2 * t], r.offsets[2 * t + 1]));
    send({ type: 'routing', uri, fileName, result: r, tokenTexts });
    this.sendSelection(editor);
  }

  /** Selection changes come in bursts while the user drags or types: send the last one of each burst. */
  private queueSelection(editor: vscode.TextEditor): void {
    clearTimeout(this.selectionTimer);
    this.selectionTimer = setTimeout(() => this.sendSelection(editor), 60);
  }

  private sendSelection(editor: vscode.TextEditor): void {
    const doc = editor.document;
    this.broadcast({ type: 'selection', uri: doc.uri.toString(), start: doc.offsetAt(editor.selection.start), end: doc.offsetAt(editor.selection.end) });
  }

  private broadcast(m: HostMessage): void {
    for (const w of this.webviews.keys()) void w.postMessage(m);
  }

  dispose(): void {
    clearTimeout(this.selectionTimer);
    for (const d of this.webviews.values()) d.dispose();
    this.webviews.clear();
    this.pruneActions.dispose();
    this.disposables.forEach((d) => d.dispose());
  }
}

/** The panel model over the extension's routing and steering stores (the Chromium tests use their own). */
export function panelModel(routing: RoutingStore, steering: SteeringStore, output: vscode.LogOutputChannel, status?: ServerStatusStore): PanelModel {
  return {
    serverState: () => status?.status.state ?? 'ready',
    getRouting: (uri) => routing.get(uri),
    onDidChangeRouting: routing.onDidChange,
    getSteering: () => [...steering.rules],
    applySteering: (rules) => steering.apply(rules),
    onDidChangeSteering: steering.onDidChange,
    revealToken: (uri, start, end) => void revealInEditor(uri, start, end),
    log: (m) => output.warn(m),
  };
}

async function revealInEditor(uri: string, start: number, end: number): Promise<void> {
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
  if (!doc) return;
  const visible = vscode.window.visibleTextEditors.find((e) => e.document === doc);
  const range = new vscode.Range(doc.positionAt(start), doc.positionAt(end));
  await vscode.window.showTextDocument(doc, { viewColumn: visible?.viewColumn, selection: range, preserveFocus: false });
  vscode.window.activeTextEditor?.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}
