// Where Granite-MoE's, gpt-oss's, Phi-3.5-MoE's, GLM-4.5's and DeepSeek's weights live in their hub checkpoints (the names their
// transformers 5.18 loaders read: conversion_mapping.py's "granitemoe" renamings; gpt-oss's modeling and MXFP4 files).
import type { ModelSpec } from '../config';
import type { LayerNames } from '../tensorNames';

export function familyLayerNames(spec: ModelSpec, layer: number, base: LayerNames): LayerNames {
  const p = `model.layers.${layer}`;
  base = { ...base, layer };
  if (spec.architecture === 'GraniteMoeForCausalLM') {
    // block_sparse_moe.input_linear [E, 2I, H] = gate rows then up rows (chunk(2)), output_linear [E, H, I]
    const moe = `${p}.block_sparse_moe`;
    return { ...base, router: `${moe}.router.layer.weight`, fusedGateUp: `${moe}.input_linear.weight`, fusedDown: `${moe}.output_linear.weight` };
  }
  if (spec.architecture === 'GptOssForCausalLM') {
    // experts.gate_up_proj [E, H, 2I] (bf16) or its MXFP4 _blocks/_scales [E, 2I, H/32, 16]/[E, 2I, H/32]; _bias [E, 2I]
    return { ...base, router: `${p}.mlp.router.weight`, routerBias: `${p}.mlp.router.bias`, fusedGateUp: `${p}.mlp.experts.gate_up_proj`, fusedDown: `${p}.mlp.experts.down_proj`, sinks: `${p}.self_attn.sinks` };
  }
  if (spec.architecture === 'PhimoeForCausalLM') {
    // the hub's Mixtral-style names (conversion_mapping.py "phimoe" renames them to mlp.router / mlp.experts.*)
    const moe = `${p}.block_sparse_moe`;
    return { ...base, router: `${moe}.gate.weight`, expertGate: (e) => `${moe}.experts.${e}.w1.weight`, expertUp: (e) => `${moe}.experts.${e}.w3.weight`, expertDown: (e) => `${moe}.experts.${e}.w2.weight` };
  }
  const glm = spec.architecture === 'Glm4MoeForCausalLM';
  if (glm || spec.mla) {
    // modeling_glm4_moe.py's and modeling_deepseek_v{2,3}.py's own names (conversion_mapping.py only fuses the
    // per-expert tensors): the TopkRouter's e_score_correction_bias buffer (GLM-4.5, DeepSeek-V3), MoE.shared_experts
    // (plural, no gate), DeepseekV{2,3}Attention's latent projections
    const moe = `${p}.mlp`;
    const a = `${p}.self_attn`;
    const shared = { sharedGate: `${moe}.shared_experts.gate_proj.weight`, sharedUp: `${moe}.shared_experts.up_proj.weight`, sharedDown: `${moe}.shared_experts.down_proj.weight` };
    const scoreBias = spec.groupedSigmoid ? { routerScoreBias: `${moe}.gate.e_score_correction_bias` } : {};
    if (glm) return { ...base, ...scoreBias, ...shared };
    const mla = { qA: `${a}.q_a_proj.weight`, qABias: `${a}.q_a_proj.bias`, qANorm: `${a}.q_a_layernorm.weight`, qB: `${a}.q_b_proj.weight`, kvA: `${a}.kv_a_proj_with_mqa.weight`, kvABias: `${a}.kv_a_proj_with_mqa.bias`, kvANorm: `${a}.kv_a_layernorm.weight`, kvB: `${a}.kv_b_proj.weight` };
    return { ...base, ...scoreBias, ...shared, mla };
  }
  return base;
}
