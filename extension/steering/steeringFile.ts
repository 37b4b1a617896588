// The steering file format: what "Export Steering…" writes and "Import Steering…" reads. Pure (no vscode import) so
// unit tests run it in plain Node. Besides MoE Lens's own rules it carries a plain list of (layer, expert, action)
// that other tools (a SteerMoE or vLLM patch, a notebook) can read without knowing our rule shape; on import any of
// the accepted shapes below works.
import type { SteeringMode, SteeringRule } from '../../common/protocol';

export const STEERING_FORMAT = 'moe-lens-steering/1';

/** One intervention as other tools read it: layer ("*" = every layer), expert, and what to do with it. */
export interface PlainAction {
  layer: number | '*';
  expert: number;
  action: SteeringMode;
  /** router-logit bias, for action "bias" */
  bias?: number;
}

export interface SteeringFile {
  format: typeof STEERING_FORMAT;
  /** the model the rules were made for (its manifest name); informative, the server validates ranges on apply */
  model?: string;
  /** preset name, when exported from a preset */
  name?: string;
  actions: PlainAction[];
}

export class SteeringFileError extends Error {}

export function toSteeringFile(rules: readonly SteeringRule[], model?: string, name?: string): SteeringFile {
  const actions = rules.map((r): PlainAction => (r.mode === 'bias' ? { layer: r.layer, expert: r.expert, action: 'bias', bias: r.bias } : { layer: r.layer, expert: r.expert, action: r.mode }));
  return { format: STEERING_FORMAT, ...(model ? { model } : {}), ...(name ? { name } : {}), actions };
}

const MODES: readonly string[] = ['disable', 'force', 'bias'];

/** One entry: {layer, expert, action|mode, bias?} or a tuple [layer, expert, action, bias?]. */
function parseEntry(x: unknown, where: string): SteeringRule {
  let layer: unknown, expert: unknown, action: unknown, bias: unknown;
  if (Array.isArray(x)) [layer, expert, action, bias] = x;
  else if (x && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    ({ layer, expert, bias } = o);
    action = o.action ?? o.mode;
  } else throw new SteeringFileError(`${where}: expected {"layer", "expert", "action"} or [layer, expert, action], got ${JSON.stringify(x)}`);
  if (layer === 'all' || layer === 'all layers') layer = '*';
  if (!(layer === '*' || (Number.isInteger(layer) && (layer as number) >= 0))) throw new SteeringFileError(`${where}: "layer" must be an integer ≥ 0 or "*", not ${JSON.stringify(layer)}`);
  if (!(Number.isInteger(expert) && (expert as number) >= 0)) throw new SteeringFileError(`${where}: "expert" must be an integer ≥ 0, not ${JSON.stringify(expert)}`);
  if (typeof action !== 'string' || !MODES.includes(action)) throw new SteeringFileError(`${where}: "action" must be one of ${MODES.join(', ')}, not ${JSON.stringify(action)}`);
  if (action === 'bias') {
    if (typeof bias !== 'number' || !Number.isFinite(bias)) throw new SteeringFileError(`${where}: action "bias" needs a finite number "bias"`);
    return { layer: layer as number | '*', expert: expert as number, mode: 'bias', bias };
  }
  return { layer: layer as number | '*', expert: expert as number, mode: action as SteeringMode };
}

/**
 * Reads a steering file: our format ({format, actions}), an object with "rules" (the shape moeLens/setSteering
 * takes), or a bare array of entries. Throws SteeringFileError naming the entry that is wrong; never half-applies.
 */
export function parseSteeringFile(text: string): { rules: SteeringRule[]; model?: string; name?: string } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new SteeringFileError(`not valid JSON (${(e as Error).message})`);
  }
  let list: unknown;
  let key = 'entries';
  let model: string | undefined, name: string | undefined;
  if (Array.isArray(data)) list = data;
  else if (data && typeof data === 'object') {
    const o = data as Record<string, unknown>;
    if (o.format !== undefined && o.format !== STEERING_FORMAT) throw new SteeringFileError(`unknown format ${JSON.stringify(o.format)} (this version reads ${STEERING_FORMAT})`);
    key = Array.isArray(o.actions) ? 'actions' : 'rules';
    list = o[key];
    if (!Array.isArray(list)) throw new SteeringFileError('expected an array, or an object with an "actions" or "rules" array');
    if (typeof o.model === 'string') model = o.model;
    if (typeof o.name === 'string') name = o.name;
  } else throw new SteeringFileError('expected an array, or an object with an "actions" or "rules" array');
  const rules = (list as unknown[]).map((x, i) => parseEntry(x, `${key}[${i}]`));
  const seen = new Set<string>();
  for (const r of rules) {
    const k = `${r.layer}/${r.expert}`;
    if (seen.has(k)) throw new SteeringFileError(`expert ${r.expert} at ${r.layer === '*' ? 'all layers' : `layer ${r.layer}`} appears twice`);
    seen.add(k);
  }
  return { rules, model, name };
}
