import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter, type ProtocolConnection } from 'vscode-languageserver-protocol/node';
import { Methods, type ServerSettings, type ServerStatus } from '../../common/protocol';
import { distDir } from '../support/paths';

/** The real server process over stdio, as an editor would talk to it. */
export class TestServer {
  readonly proc: ChildProcess;
  readonly conn: ProtocolConnection;
  readonly statuses: ServerStatus[] = [];
  readonly routingChanged: { uri: string; version: number; partial?: boolean }[] = [];
  readonly messages: string[] = [];
  private versions = new Map<string, number>();

  /** `env`: extra environment of the server process (e.g. MOE_LENS_PARTIAL_AFTER_MS) */
  constructor(env: Record<string, string> = {}) {
    this.proc = spawn(process.execPath, [join(distDir, 'server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.conn = createProtocolConnection(new StreamMessageReader(this.proc.stdout!), new StreamMessageWriter(this.proc.stdin!));
    this.conn.onNotification(Methods.statusChanged, (s: ServerStatus) => void this.statuses.push(s));
    this.conn.onNotification(Methods.routingChanged, (p: { uri: string; version: number; partial?: boolean }) => void this.routingChanged.push(p));
    this.conn.onNotification('window/showMessage', () => undefined);
    this.conn.onNotification('window/logMessage', () => undefined);
    this.conn.onRequest('window/workDoneProgress/create', () => null);
    this.conn.onRequest('window/showMessageRequest', (m: { message: string }) => {
      this.messages.push(m.message);
      return null;
    });
    this.conn.onNotification('$/progress', () => undefined);
    this.conn.listen();
  }

  /** What this client answers to workspace/configuration (the pull model), when it offers it at initialize. */
  configuration: Partial<ServerSettings> = {};

  async start(settings: Partial<ServerSettings> = {}, opts: { pullConfiguration?: boolean } = {}): Promise<void> {
    if (opts.pullConfiguration) {
      this.conn.onRequest('workspace/configuration', (p: { items: { section?: string }[] }) => p.items.map((i) => (i.section === 'moeLens' ? this.configuration : null)));
    }
    const capabilities = { window: { workDoneProgress: true }, workspace: { configuration: !!opts.pullConfiguration } };
    await this.conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities, initializationOptions: { modelPath: '', executionProvider: 'cpu', maxTokens: 4096, ...settings } });
    await this.conn.sendNotification('initialized', {});
  }

  /** Waits until the model is loaded (ready) or failed (error). */
  async settled(): Promise<ServerStatus> {
    for (;;) {
      const s: ServerStatus = await this.conn.sendRequest(Methods.getStatus);
      if (s.state === 'ready' || s.state === 'error') return s;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  open(uri: string, text: string, languageId = 'plaintext'): void {
    this.versions.set(uri, 1);
    void this.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
  }

  /** An incremental edit: replace [start, end) (line/character positions) with text. */
  edit(uri: string, range: { start: { line: number; character: number }; end: { line: number; character: number } }, text: string): number {
    const v = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, v);
    void this.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: v }, contentChanges: [{ range, text }] });
    return v;
  }

  change(uri: string, text: string): number {
    const v = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, v);
    void this.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: v }, contentChanges: [{ text }] });
    return v;
  }

  /**
   * notebookDocument/didOpen (LSP 3.17 notebook sync) of a Jupyter notebook with these cells in order; returns the
   * cells' document URIs (vscode-notebook-cell:, as VS Code names them).
   */
  openNotebook(uri: string, cells: { text: string; kind?: 'markdown' | 'code'; languageId?: string }[]): string[] {
    const path = uri.replace(/^file:/, '');
    const docs = cells.map((c, i) => ({ uri: `vscode-notebook-cell:${path}#W${i}sZmlsZQ`, languageId: c.languageId ?? (c.kind === 'markdown' ? 'markdown' : 'python'), version: 1, text: c.text }));
    for (const d of docs) this.versions.set(d.uri, 1);
    this.versions.set(uri, 1);
    const notebookDocument = { uri, notebookType: 'jupyter-notebook', version: 1, cells: docs.map((d, i) => ({ kind: cells[i].kind === 'markdown' ? 1 : 2, document: d.uri })) };
    void this.conn.sendNotification('notebookDocument/didOpen', { notebookDocument, cellTextDocuments: docs });
    return docs.map((d) => d.uri);
  }

  /** notebookDocument/didChange replacing a cell's whole text; returns the cell's new version. */
  changeCell(notebookUri: string, cellUri: string, text: string): number {
    const v = (this.versions.get(cellUri) ?? 1) + 1;
    this.versions.set(cellUri, v);
    const nv = (this.versions.get(notebookUri) ?? 1) + 1;
    this.versions.set(notebookUri, nv);
    const change = { cells: { textContent: [{ document: { uri: cellUri, version: v }, changes: [{ text }] }] } };
    void this.conn.sendNotification('notebookDocument/didChange', { notebookDocument: { uri: notebookUri, version: nv }, change });
    return v;
  }

  /** notebookDocument/didClose with its cells. */
  closeNotebook(uri: string, cellUris: string[]): void {
    void this.conn.sendNotification('notebookDocument/didClose', { notebookDocument: { uri }, cellTextDocuments: cellUris.map((u) => ({ uri: u })) });
  }

  async stop(): Promise<void> {
    try {
      await Promise.race([this.conn.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 2000))]);
      void this.conn.sendNotification('exit');
    } catch {
      /* already gone */
    }
    this.conn.dispose();
    this.proc.kill();
  }
}
