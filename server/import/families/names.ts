// Where Granite-MoE's, gpt-oss's, Phi-3.5-MoE's and GLM-4.5's weights live in their hub checkpoints (the names their
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
  if (spec.architecture === 'Glm4MoeForCausalLM') {
    // modeling_glm4_moe.py's own names (conversion_mapping.py's "glm4_moe" only fuses the per-expert tensors):
    // Glm4MoeTopkRouter's e_score_correction_bias buffer, Glm4MoeMoE.shared_experts (plural, no gate)
    const moe = `${p}.mlp`;
    return { ...base, routerScoreBias: `${moe}.gate.e_score_correction_bias`, sharedGate: `${moe}.shared_experts.gate_proj.weight`, sharedUp: `${moe}.shared_experts.up_proj.weight`, sharedDown: `${moe}.shared_experts.down_proj.weight` };
  }
  return base;
}
