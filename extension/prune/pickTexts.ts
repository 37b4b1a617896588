// The corpus and held-out pickers of "Prune Experts for a Corpus…" and "Expert Offloading…": a workspace glob, or
// files and folders from an open dialog (a folder stands for its text files). The CLI reads the files from disk.
import * as vscode from 'vscode';
import { MAX_GLOB_FILES } from '../stats/routingStatistics';

/** The text files a picked folder contributes (the CLI refuses binary files, so only text extensions). */
export const TEXT_FILES = '**/*.{py,ts,tsx,js,jsx,mjs,md,txt,rst,json,c,cc,cpp,h,hpp,rs,go,java,kt,rb,sh,css,html,yaml,yml,toml}';
const EXCLUDE = '**/{node_modules,.git}/**';

/** Absolute paths, or undefined (nothing picked, or nothing matched: said to the user). */
export async function pickTexts(title: string, defaultGlob = TEXT_FILES): Promise<string[] | undefined> {
  const pick = await vscode.window.showQuickPick<vscode.QuickPickItem & { how: 'glob' | 'files' }>(
    [
      { label: 'Workspace files…', description: `a glob, at most ${MAX_GLOB_FILES} files`, how: 'glob' },
      { label: 'Files or a folder…', description: 'from disk; a folder means its text files', how: 'files' },
    ],
    { title },
  );
  if (!pick) return undefined;
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
