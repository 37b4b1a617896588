// The served model's shape from its Hugging Face config.json, when a local copy is at hand: SGLang's routed experts
// come without their [layers, topK] shape, and neither engine says how many experts a layer has.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelLoadError } from '../errors';

export interface ServedModelShape {
  name?: string;
  layers: number;
  topK: number;
  /** routed experts per layer, when the config names them */
  experts?: number;
  contextLength?: number;
}

const int = (v: unknown): number | undefined => (Number.isInteger(v) && (v as number) > 0 ? (v as number) : undefined);

/**
 * Reads dir/config.json; undefined when the file is absent. The field names are transformers' own:
 * num_hidden_layers, num_experts_per_tok, and the expert count as num_local_experts (Mixtral), num_experts
 * (Qwen2/3-MoE, OLMoE) or n_routed_experts (DeepSeek).
 */
export async function readServedModelShape(dir: string): Promise<ServedModelShape | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, 'config.json'), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ModelLoadError(`cannot be read (${(e as Error).message})`, 'config.json');
  }
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new ModelLoadError(`not valid JSON (${(e as Error).message})`, 'config.json');
  }
  const layers = int(c.num_hidden_layers);
  if (!layers) throw new ModelLoadError('num_hidden_layers is missing or not a positive integer', 'config.json', '/num_hidden_layers');
  const topK = int(c.num_experts_per_tok);
  if (!topK) throw new ModelLoadError('num_experts_per_tok is missing or not a positive integer (is this a Mixture-of-Experts model?)', 'config.json', '/num_experts_per_tok');
  const archs = Array.isArray(c.architectures) ? c.architectures : [];
  return {
    name: typeof archs[0] === 'string' ? archs[0] : undefined,
    layers,
    topK,
    experts: int(c.num_local_experts) ?? int(c.num_experts) ?? int(c.n_routed_experts),
    contextLength: int(c.max_position_embeddings),
  };
}
