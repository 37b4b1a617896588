// The corpus and held-out pickers of "Prune Experts for a Corpus…" and "Expert Offloading…": a workspace glob, files
// and folders from an open dialog (a folder stands for its text files), or open editors. The CLI reads files from
// disk; an untitled or unsaved editor's current text goes to it on stdin instead (pruneCliArgs.ts documentSource), so
// it is never written to disk.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { TextSource } from '../../common/pruneProtocol';
import { MAX_GLOB_FILES } from '../stats/routingStatistics';
import { documentSource } from './pruneCliArgs';

/** The text files a picked folder contributes (the CLI refuses binary files, so only text extensions). */
export const TEXT_FILES = '**/*.{py,ts,tsx,js,jsx,mjs,md,txt,rst,json,c,cc,cpp,h,hpp,rs,go,java,kt,rb,sh,css,html,yaml,yml,toml}';
const EXCLUDE = '**/{node_modules,.git}/**';

/** The open text documents a corpus can come from: files and untitled editors (not output channels, diffs, …). */
const openDocuments = () => vscode.workspace.textDocuments.filter((d) => d.uri.scheme === 'file' || d.uri.scheme === 'untitled');

/** Open editors, several at once: a saved file as its path, an unsaved or untitled one as its current text. */
async function pickOpenEditors(title: string): Promise<TextSource[] | undefined> {
  const active = vscode.window.activeTextEditor?.document;
  const items = openDocuments().map((d) => ({
    label: d.isUntitled ? d.uri.path : basename(d.fileName),
    description: d.isUntitled ? 'untitled' : `${vscode.workspace.asRelativePath(d.uri)}${d.isDirty ? ' · unsaved: its current text' : ''}`,
    picked: d === active,
    doc: d,
  }));
  if (!items.length) return void vscode.window.showInformationMessage('MoE Lens: no open text editor.');
  const picked = await vscode.window.showQuickPick(items, { title, canPickMany: true, placeHolder: 'Unsaved and untitled editors are used as they are now; their text is not written to disk' });
  if (!picked?.length) return undefined;
  return picked.map(({ doc: d }) => documentSource({ uri: d.uri.toString(), scheme: d.uri.scheme, fileName: d.fileName, isUntitled: d.isUntitled, isDirty: d.isDirty, getText: () => d.getText() }));
}

/** Absolute paths and inline texts, or undefined (nothing picked, or nothing matched: said to the user). */
export async function pickTexts(title: string, defaultGlob = TEXT_FILES): Promise<TextSource[] | undefined> {
  const open = openDocuments();
  const unsaved = open.filter((d) => d.isUntitled || d.isDirty).length;
  const pick = await vscode.window.showQuickPick<vscode.QuickPickItem & { how: 'glob' | 'files' | 'open' }>(
    [
      { label: 'Workspace files…', description: `a glob, at most ${MAX_GLOB_FILES} files`, how: 'glob' },
      { label: 'Files or a folder…', description: 'from disk; a folder means its text files', how: 'files' },
      ...(open.length ? [{ label: 'Open editors…', description: `${open.length} open${unsaved ? `, ${unsaved} unsaved or untitled (their current text)` : ''}`, how: 'open' as const }] : []),
    ],
    { title },
  );
  if (!pick) return undefined;
  if (pick.how === 'open') return pickOpenEditors(title);
  let files: vscode.Uri[] = [];
  let what: string;
  if (pick.how === 'glob') {
    const glob = await vscode.window.showInputBox({ title, value: defaultGlob, prompt: 'node_modules and .git are left out' });
    if (!glob) return undefined;
    files = await vscode.workspace.findFiles(glob, EXCLUDE, MAX_GLOB_FILES + 1);
    what = glob;
  } else {
    const uris = await vscode.window.showOpenDialog({ canSelectFiles: true, canSelectFolders: true, canSelectMany: true, openLabel: 'Use', title });
    if (!uris?.length) return undefined;
    for (const u of uris) {
      const st = await vscode.workspace.fs.stat(u);
      if (st.type & vscode.FileType.Directory) files.push(...(await vscode.workspace.findFiles(new vscode.RelativePattern(u, TEXT_FILES), EXCLUDE, MAX_GLOB_FILES + 1)));
      else files.push(u);
    }
    what = uris.map((u) => vscode.workspace.asRelativePath(u)).join(', ');
  }
  if (!files.length) return void vscode.window.showInformationMessage(`MoE Lens: no text file in ${what}.`);
  if (files.length > MAX_GLOB_FILES) void vscode.window.showWarningMessage(`MoE Lens: ${what} has more than ${MAX_GLOB_FILES} files; using the first ${MAX_GLOB_FILES}.`);
  return [...new Set(files.slice(0, MAX_GLOB_FILES).map((u) => u.fsPath))].sort();
}
