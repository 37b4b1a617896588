// Where each weight lives in a checkpoint, in the hub's own layout per architecture (the names transformers' loaders
// read). transformers 5 may also save experts fused (`experts.gate_up_proj` [E, 2I, H], `experts.down_proj` [E, H, I]);
// both layouts are accepted.
import type { ModelSpec } from './config';
import { familyLayerNames } from './families/names';

export interface LayerNames {
  inputNorm: string;
  postNorm: string;
  q: string;
  k: string;
  v: string;
  o: string;
  qBias: string;
  kBias: string;
  vBias: string;
  oBias: string;
  qNorm: string;
  kNorm: string;
  router: string;
  /** per-expert gate (w1), up (w3), down (w2) weights */
  expertGate: (e: number) => string;
  expertUp: (e: number) => string;
  expertDown: (e: number) => string;
  /** the fused transformers-5 layout */
  fusedGateUp: string;
  fusedDown: string;
  /** dense MLP (layers without experts) and the Qwen2-MoE shared expert */
  mlpGate: string;
  mlpUp: string;
  mlpDown: string;
  sharedGate: string;
  sharedUp: string;
  sharedDown: string;
  sharedExpertGate: string;
  /** gpt-oss: the router's bias, the per-head attention sinks */
  routerBias?: string;
  sinks?: string;
  /** GLM-4.5: the router's e_score_correction_bias [E] (float32), added to the sigmoid scores for the choice only */
  routerScoreBias?: string;
  /** DeepSeek's latent attention: the query LoRA (q_a, its norm, q_b; or plain q), the KV latent and its expansion */
  mla?: { qA: string; qABias: string; qANorm: string; qB: string; kvA: string; kvABias: string; kvANorm: string; kvB: string };
  /** the decoder layer these names belong to */
  layer?: number;
}

export function layerNames(spec: ModelSpec, layer: number): LayerNames {
  const p = `model.layers.${layer}`;
  const a = `${p}.self_attn`;
  const mixtral = spec.architecture === 'MixtralForCausalLM';
  const moe = mixtral ? `${p}.block_sparse_moe` : `${p}.mlp`;
  const [g, u, d] = mixtral ? ['w1', 'w3', 'w2'] : ['gate_proj', 'up_proj', 'down_proj'];
  return familyLayerNames(spec, layer, {
    inputNorm: `${p}.input_layernorm.weight`,
    postNorm: `${p}.post_attention_layernorm.weight`,
    q: `${a}.q_proj.weight`,
    k: `${a}.k_proj.weight`,
    v: `${a}.v_proj.weight`,
    o: `${a}.o_proj.weight`,
    qBias: `${a}.q_proj.bias`,
    kBias: `${a}.k_proj.bias`,
    vBias: `${a}.v_proj.bias`,
    oBias: `${a}.o_proj.bias`,
    qNorm: `${a}.q_norm.weight`,
    kNorm: `${a}.k_norm.weight`,
    router: `${moe}.gate.weight`,
    expertGate: (e) => `${moe}.experts.${e}.${g}.weight`,
    expertUp: (e) => `${moe}.experts.${e}.${u}.weight`,
    expertDown: (e) => `${moe}.experts.${e}.${d}.weight`,
    fusedGateUp: `${p}.mlp.experts.gate_up_proj`,
    fusedDown: `${p}.mlp.experts.down_proj`,
    mlpGate: `${p}.mlp.gate_proj.weight`,
    mlpUp: `${p}.mlp.up_proj.weight`,
    mlpDown: `${p}.mlp.down_proj.weight`,
    sharedGate: `${p}.mlp.shared_expert.gate_proj.weight`,
    sharedUp: `${p}.mlp.shared_expert.up_proj.weight`,
    sharedDown: `${p}.mlp.shared_expert.down_proj.weight`,
    sharedExpertGate: `${p}.mlp.shared_expert_gate.weight`,
  });
}

export const EMBED = 'model.embed_tokens.weight';
export const FINAL_NORM = 'model.norm.weight';
export const LM_HEAD = 'lm_head.weight';
