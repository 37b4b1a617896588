// "MoE Lens: Select Model…" (the embedded model, the imported ones, a folder) and "Delete Imported Model…".
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import { importModel, modelsDir } from './importModelCommand';
import { listImportedModels, type ImportedModel } from './modelStorage';

type Choice = vscode.QuickPickItem & { run?: () => Promise<unknown> };

const same = (a: string, b: string) => a !== '' && b !== '' && resolve(a) === resolve(b);

export async function selectModel(ctx: Ctx): Promise<void> {
  const current = ctx.config.server.modelPath;
  const mark = (on: boolean) => (on ? '$(check) ' : '');
  const items: Choice[] = [
    { label: `${mark(current === '')}Embedded model`, description: 'the small MoE shipped with MoE Lens', run: () => ctx.config.setMachineModelPath('') },
  ];
  const imported = listImportedModels(modelsDir(ctx));
  if (imported.length) items.push({ label: 'Imported', kind: vscode.QuickPickItemKind.Separator });
  for (const m of imported) {
    items.push({ label: `${mark(same(current, m.dir))}${m.name}`, description: m.summary, detail: m.dir, run: () => ctx.config.setMachineModelPath(m.dir) });
  }
  items.push(
    { label: '', kind: vscode.QuickPickItemKind.Separator },
    { label: 'Import a Hugging Face model…', description: 'convert a checkpoint folder (config.json, *.safetensors)', run: () => importModel(ctx) },
    {
      label: 'Choose a folder…',
      description: 'a directory with moe.json, model.onnx and tokenizer.json',
      run: async () => {
        const uri = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Use this model' });
        if (uri?.length) await ctx.config.setModelPath(uri[0].fsPath);
      },
    },
  );
  const choice = await vscode.window.showQuickPick(items, { title: 'MoE Lens: model' });
  await choice?.run?.();
}

/** Deletes one imported model after a confirmation; the one in use is replaced by the embedded model first. */
export async function deleteImportedModel(ctx: Ctx): Promise<void> {
  const imported = listImportedModels(modelsDir(ctx));
  if (!imported.length) return void vscode.window.showInformationMessage('MoE Lens: no imported model to delete.');
  const pick = await vscode.window.showQuickPick(
    imported.map((m) => ({ label: m.name, description: m.summary, detail: m.dir, m })),
    { title: 'MoE Lens: delete which imported model?' },
  );
  if (!pick) return;
  const m: ImportedModel = pick.m;
  const ok = await vscode.window.showWarningMessage(`Delete the imported model "${m.name}"?`, { modal: true, detail: `${m.dir} will be removed from disk. The checkpoint it was imported from is not touched.` }, 'Delete');
  if (ok !== 'Delete') return;
  if (same(ctx.config.server.modelPath, m.dir)) await ctx.config.setMachineModelPath('');
  try {
    rmSync(m.dir, { recursive: true, force: true });
    vscode.window.setStatusBarMessage(`MoE Lens: deleted ${m.name}`, 4000);
  } catch (e) {
    void vscode.window.showErrorMessage(`MoE Lens: cannot delete ${m.dir}: ${(e as Error).message}`);
  }
}
