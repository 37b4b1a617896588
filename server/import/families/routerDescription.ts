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
  if (spec.architecture === 'GraniteMoeForCausalLM' || spec.architecture === 'GptOssForCausalLM') {
    return {
      function: 'topk-softmax',
      selection: 'topk(router_logits + expert_bias)',
      gateWeights: `softmax over the selected raw router logits${spec.routerBias ? ' (which include the router bias)' : ''} (transformers: top-k on the logits, then softmax over the k)`,
    };
  }
  return undefined;
}
