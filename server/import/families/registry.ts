// Families whose config.json is read by a parser of their own (the first four are read by config.ts itself).
import type { Architecture, ModelSpec } from '../config';
import { deepseekV2Spec, deepseekV3Spec } from './deepseek';
import { glm4MoeSpec } from './glm4Moe';
import { gptOssSpec } from './gptOss';
import { graniteSpec } from './granite';
import { phimoeSpec } from './phimoe';
import type { Json } from './fields';

export const FAMILY_PARSERS: Partial<Record<Architecture, (c: Json) => ModelSpec>> = {
  GraniteMoeForCausalLM: graniteSpec,
  GptOssForCausalLM: gptOssSpec,
  PhimoeForCausalLM: phimoeSpec,
  Glm4MoeForCausalLM: glm4MoeSpec,
  DeepseekV3ForCausalLM: deepseekV3Spec,
  DeepseekV2ForCausalLM: deepseekV2Spec,
};
