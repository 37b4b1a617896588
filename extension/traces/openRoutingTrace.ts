// "MoE Lens: Open Routing Trace…": show the routing a serving engine (vLLM, SGLang) recorded for the active document.
// The server checks the trace against the model's tokenizer and shape (moeLens/openTrace) and serves the document's
// routing from it until "Close Routing Trace" or an edit; decorations, hover, Experts view and panel follow.
import * as vscode from 'vscode';
import { CloseTraceRequest, OpenTraceRequest, type OpenTraceResult } from '../../common/protocol';
import type { Ctx } from '../ctx';

export interface OpenTraceArgs {
  /** the trace file (skips the file dialog) */
  path?: string;
  /** the document (default: the active editor's) */
  uri?: string;
}

export async function openRoutingTrace(ctx: Ctx, arg?: unknown): Promise<OpenTraceResult | undefined> {
  const a = (arg ?? {}) as OpenTraceArgs;
  const uri = a.uri ?? vscode.window.activeTextEditor?.document.uri.toString();
  if (!uri) return void vscode.window.showInformationMessage('MoE Lens: open the document the trace was recorded on first.');
  let path = a.path;
  if (!path) {
    const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'Engine response (JSON)': ['json'] }, openLabel: 'Open Routing Trace', title: 'MoE Lens: a vLLM or SGLang response with routed experts' });
    if (!picked?.length) return undefined;
    path = picked[0].fsPath;
  }
  try {
    const r = await ctx.request(OpenTraceRequest, { uri, path }, undefined);
    const engine = r.engine === 'vllm' ? 'vLLM' : 'SGLang';
    const missing = r.notRecorded ? ` ${r.notRecorded} token${r.notRecorded === 1 ? '' : 's'} not recorded (prefix cache).` : '';
    const close = 'Close Trace';
    if (!a.path) {
      void vscode.window.showInformationMessage(`MoE Lens: routing from the ${engine} trace (${r.tokens} tokens).${missing} Gate weights, entropy and surprisal are not in a trace. Editing the text goes back to the model.`, close).then((c) => c === close && closeRoutingTrace(ctx, { uri }));
    }
    return r;
  } catch (e) {
    void vscode.window.showErrorMessage(`MoE Lens: cannot show this trace: ${(e as Error).message}`);
    return undefined;
  }
}

export async function closeRoutingTrace(ctx: Ctx, arg?: unknown): Promise<boolean> {
  const uri = (arg as { uri?: string } | undefined)?.uri ?? vscode.window.activeTextEditor?.document.uri.toString();
  if (!uri) return false;
  try {
    return await ctx.request(CloseTraceRequest, { uri });
  } catch (e) {
    void vscode.window.showErrorMessage(`MoE Lens: ${(e as Error).message}`);
    return false;
  }
}
