// The folder name an imported model gets in the extension's global storage (models/<name>). Pure (no vscode, no fs):
// test/unit/importNames.test.ts covers it.

const HASH = /^[0-9a-f]{40}$/i; // a Hugging Face cache snapshot: models--org--name/snapshots/<commit>
const MAX = 64;

/** Characters safe in a folder name on every platform; runs of others become one "-". */
export function safeFolderName(s: string): string {
  return s
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, MAX)
    .replace(/[-.]+$/g, '');
}

const lastSegment = (p: string) => p.split(/[\\/]+/).filter(Boolean).pop() ?? '';

/**
 * A name for the checkpoint in hfDir, from the most telling source that has one: config.json's `_name_or_path`
 * ("allenai/OLMoE-1B-7B-0924" → "OLMoE-1B-7B-0924"), the folder's name (for a Hugging Face cache snapshot, the repo
 * name of models--org--name), the architecture ("Qwen3MoeForCausalLM" → "Qwen3Moe"), else "model".
 * configText may be missing or broken: the importer reports that; the name only needs to be reasonable.
 */
export function importedModelName(configText: string | undefined, hfDir: string): string {
  let config: Record<string, unknown> = {};
  try {
    const v: unknown = configText === undefined ? undefined : JSON.parse(configText);
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) config = v as Record<string, unknown>;
  } catch {
    // not JSON: the import itself will say so, naming config.json
  }
  const candidates: string[] = [];
  if (typeof config._name_or_path === 'string') candidates.push(lastSegment(config._name_or_path));
  const segments = hfDir.split(/[\\/]+/).filter(Boolean);
  const folder = segments[segments.length - 1] ?? '';
  if (HASH.test(folder) && segments[segments.length - 2] === 'snapshots') {
    const repo = segments[segments.length - 3] ?? '';
    if (repo.startsWith('models--')) candidates.push(repo.split('--').slice(2).join('--'));
  } else candidates.push(folder);
  const arch = Array.isArray(config.architectures) ? config.architectures[0] : undefined;
  if (typeof arch === 'string') candidates.push(arch.replace(/ForCausalLM$/, ''));
  for (const c of candidates) {
    const s = safeFolderName(c);
    if (s) return s;
  }
  return 'model';
}

/** name, or name-2, name-3, … : the first that no entry of `taken` equals, ignoring case (macOS, Windows). */
export function uniqueName(name: string, taken: readonly string[]): string {
  const used = new Set(taken.map((t) => t.toLowerCase()));
  if (!used.has(name.toLowerCase())) return name;
  for (let i = 2; ; i++) {
    const n = `${name}-${i}`;
    if (!used.has(n.toLowerCase())) return n;
  }
}
