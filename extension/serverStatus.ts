import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { Methods, type ModelInfo, type ServerStatus } from '../common/protocol';
import { modelChanged } from './statusChange';

const STARTING: ServerStatus = { state: 'starting', activeRules: 0 };

/**
 * The server's status as last reported (moeLens/statusChanged, or asked with moeLens/status): the one place the
 * extension keeps it. Commands ask it for the model; the Experts tree redraws when the model or its labels change.
 */
export class ServerStatusStore implements vscode.Disposable {
  private current: ServerStatus = STARTING;
  private readonly modelEmitter = new vscode.EventEmitter<void>();
  /** the model appeared, changed or went, or its labels arrived (the server computes them after loading) */
  readonly onDidChangeModel = this.modelEmitter.event;

  constructor(private readonly client: () => LanguageClient | undefined) {}

  get status(): ServerStatus {
    return this.current;
  }

  /** A moeLens/statusChanged notification. */
  update(s: ServerStatus): void {
    const was = this.current;
    this.current = s;
    if (modelChanged(was, s)) this.modelEmitter.fire();
  }

  /** The server process stopped: nothing it reported holds any more. */
  reset(): void {
    this.current = STARTING;
  }

  /** The loaded model, asking the server when no ready status has arrived yet; undefined while loading or down. */
  async model(): Promise<ModelInfo | undefined> {
    if (this.current.state === 'ready') return this.current.model;
    const c = this.client();
    if (!c?.isRunning()) return undefined;
    this.current = await c.sendRequest(Methods.getStatus);
    return this.current.model;
  }

  /** Expert labels [layer][expert] when the model is ready and they are known. */
  labels(): string[][] | undefined {
    return this.current.state === 'ready' ? this.current.model?.labels : undefined;
  }

  dispose(): void {
    this.modelEmitter.dispose();
  }
}
