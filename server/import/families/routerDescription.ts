// moe.json's router description for the families whose routers differ from softmax-over-all-then-top-k.
import type { ModelSpec } from '../config';

export interface RouterDescription {
  function: string;
  selection: string;
  gateWeights: string;
}

export function familyRouterDescription(spec: ModelSpec): RouterDescription | undefined {
  if (spec.sparsemixerJitter !== undefined) {
    return {
      function: 'sparsemixer-top2',
      selection: 'argmax(router_logits + expert_bias), then argmax of the rest',
      gateWeights: `Phi-MoE sparsemixer (jitter_eps ${spec.sparsemixerJitter}): each chosen expert's weight is the softmax of the raw logits within the relative jitter threshold of its own raw logit (the second with the first masked out); not renormalised`,
    };
  }
  if (spec.groupedSigmoid) {
    const { groups, topkGroup, scaling } = spec.groupedSigmoid;
    const grouped = topkGroup < groups ? ` within the ${topkGroup} of ${groups} expert groups whose two best such scores sum highest` : '';
    return {
      function: 'sigmoid-topk',
      selection: `topk(sigmoid(router_logits) + e_score_correction_bias + expert_bias)${grouped}`,
      gateWeights: `sigmoid(router_logits) of the selected experts (without e_score_correction_bias)${spec.normTopK ? ', renormalised to sum 1' : ''} (transformers: ${spec.mla ? 'DeepseekV3TopkRouter' : 'Glm4MoeTopkRouter'})${scaling !== 1 ? `; the model multiplies them by routed_scaling_factor ${scaling}, which the graph applies to the experts' sum and these weights leave out` : ''}`,
    };
  }
  if (spec.groupedSoftmax) {
    const { groups, topkGroup, scaling } = spec.groupedSoftmax;
    const grouped = topkGroup < groups;
    return {
      function: grouped ? 'group-limited-softmax-topk' : 'softmax-topk',
      selection: `topk(router_logits + expert_bias)${grouped ? ` within the ${topkGroup} of ${groups} expert groups whose best such score is highest` : ''}`,
      gateWeights: `softmax(router_logits) over all experts, at the selected ones, not renormalised (transformers: DeepseekV2TopkRouter)${scaling !== 1 ? `; the model multiplies them by routed_scaling_factor ${scaling}, which the graph applies to the experts' sum and these weights leave out` : ''}`,
    };
  }
  if (spec.architecture === 'GraniteMoeForCausalLM' || spec.architecture === 'GptOssForCausalLM') {
    return {
      function: 'topk-softmax',
      selection: 'topk(router_logits + expert_bias)',
      gateWeights: `softmax over the selected raw router logits${spec.routerBias ? ' (which include the router bias)' : ''} (transformers: top-k on the logits, then softmax over the k)`,
    };
  }
  return undefined;
}
