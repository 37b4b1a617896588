// Imported models live in the extension's global storage, one folder each: <globalStorage>/models/<name>/ (moe.json,
// model.onnx, model.onnx.data, tokenizer.json). An import in progress writes into models/.importing-<pid>-*/ and
// renames the finished model into place, so a folder without a leading dot is always complete. No vscode import:
// test/model/importProcess.test.ts uses this with a plain folder.
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const STAGING_PREFIX = '.importing-';

export interface ImportedModel {
  /** the folder's name under models/ */
  folder: string;
  dir: string;
  /** moe.json's name (the folder's name when moe.json cannot be read) */
  name: string;
  /** e.g. "Qwen3MoeForCausalLM · 2 layers × 8 experts, top-2" */
  summary: string;
}

/** The imported models in modelsDir, by folder name; a folder whose moe.json is unreadable is listed as broken. */
export function listImportedModels(modelsDir: string): ImportedModel[] {
  if (!existsSync(modelsDir)) return [];
  const out: ImportedModel[] = [];
  for (const folder of readdirSync(modelsDir).sort()) {
    const dir = join(modelsDir, folder);
    if (folder.startsWith('.') || !statSync(dir).isDirectory()) continue;
    try {
      const m = JSON.parse(readFileSync(join(dir, 'moe.json'), 'utf8')) as { name?: unknown; layers?: unknown; experts?: unknown; topK?: unknown; provenance?: { source?: { architecture?: unknown } } };
      const arch = m.provenance?.source?.architecture;
      out.push({
        folder,
        dir,
        name: typeof m.name === 'string' && m.name ? m.name : folder,
        summary: `${typeof arch === 'string' ? `${arch} · ` : ''}${String(m.layers)} layers × ${String(m.experts)} experts, top-${String(m.topK)}`,
      });
    } catch (e) {
      out.push({ folder, dir, name: folder, summary: `unreadable moe.json (${(e as Error).message})` });
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0 only asks whether the process exists
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes staging folders left by an extension host that died mid-import (a window closed, a crash). Each window has
 * its own extension host (pid in the name), so another window's import in progress is left alone.
 */
export function removeStaleStaging(modelsDir: string): void {
  if (!existsSync(modelsDir)) return;
  for (const f of readdirSync(modelsDir)) {
    if (!f.startsWith(STAGING_PREFIX)) continue;
    const pid = Number(f.slice(STAGING_PREFIX.length).split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !alive(pid)) rmSync(join(modelsDir, f), { recursive: true, force: true });
  }
}
