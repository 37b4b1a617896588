// Choosing the two text sets of the contrastive expert finder: open documents, the selection, workspace files by glob,
// or (for the embedded model) one domain of the profile corpus shipped with it.
import * as vscode from 'vscode';
import { isAnalysedScheme } from '../../common/analysedDocuments';
import type { TextSource } from '../../common/protocol';
import type { Ctx } from '../ctx';

/** At most this many workspace files per set: enough for stable P(active), bounded server work. */
const MAX_FILES = 200;

interface SourceChoice extends vscode.QuickPickItem {
  choose: () => Promise<{ sources: TextSource[]; name: string } | undefined>;
}

/** The embedded model's profile corpus, one text per training domain (media/model/profile/<domain>.txt). */
async function profileDomains(ctx: Ctx): Promise<{ domain: string; uri: vscode.Uri }[]> {
  if (ctx.config.server.modelPath) return [];
  try {
    const dir = vscode.Uri.joinPath(ctx.extension.extensionUri, 'media', 'model', 'profile');
    const entries = await vscode.workspace.fs.readDirectory(dir);
    return entries.filter(([n]) => n.endsWith('.txt')).map(([n]) => ({ domain: n.slice(0, -4), uri: vscode.Uri.joinPath(dir, n) }));
  } catch {
    return [];
  }
}

export async function pickTextSet(ctx: Ctx, which: 'A' | 'B'): Promise<{ sources: TextSource[]; name: string } | undefined> {
  const title = `MoE Lens: contrastive set ${which}${which === 'A' ? ' (the behaviour whose experts you want)' : ' (what to contrast it with)'}`;
  const choices: SourceChoice[] = [];
  const docs = vscode.workspace.textDocuments.filter((d) => isAnalysedScheme(d.uri.scheme));
  if (docs.length) {
    choices.push({
      label: '$(files) Open documents…',
      description: `${docs.length} open`,
      choose: async () => {
        const picks = await vscode.window.showQuickPick(docs.map((d) => ({ label: vscode.workspace.asRelativePath(d.uri), description: d.languageId, uri: d.uri.toString() })), { title, canPickMany: true });
        return picks?.length ? { sources: picks.map((p) => ({ uri: p.uri })), name: picks.map((p) => p.label).join(', ') } : undefined;
      },
    });
  }
  const ed = vscode.window.activeTextEditor;
  if (ed && !ed.selection.isEmpty) {
    const text = ed.document.getText(ed.selection);
    choices.push({
      label: '$(selection) Selection in the active editor',
      description: `${text.length} characters`,
      choose: async () => ({ sources: [{ text }], name: `selection of ${vscode.workspace.asRelativePath(ed.document.uri)}` }),
    });
  }
  if (vscode.workspace.workspaceFolders?.length) {
    choices.push({
      label: '$(search) Workspace files matching a glob…',
      description: 'e.g. **/*.py',
      choose: async () => {
        const glob = await vscode.window.showInputBox({ title, prompt: `Files of set ${which} (at most ${MAX_FILES})`, placeHolder: '**/*.py', validateInput: (s) => (s.trim() ? undefined : 'Enter a glob') });
        if (!glob) return undefined;
        const files = await vscode.workspace.findFiles(glob.trim(), '**/node_modules/**', MAX_FILES);
        if (!files.length) {
          void vscode.window.showErrorMessage(`MoE Lens: no workspace file matches ${glob}.`);
          return undefined;
        }
        return { sources: files.map((f) => ({ uri: f.toString() })), name: `${glob} (${files.length} files)` };
      },
    });
  }
  for (const p of await profileDomains(ctx)) {
    choices.push({
      label: `$(book) Profile corpus: ${p.domain}`,
      description: 'held-out text shipped with the embedded model',
      choose: async () => ({ sources: [{ text: Buffer.from(await vscode.workspace.fs.readFile(p.uri)).toString('utf8') }], name: `profile ${p.domain}` }),
    });
  }
  if (!choices.length) {
    void vscode.window.showInformationMessage('MoE Lens: open some documents (or a folder) to compare.');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(choices, { title });
  return pick?.choose();
}
