"""Export the trained model to media/model/ through the importer's graph builder, plus golden fixtures for tests.

    .venv/bin/python tools/model/export.py [--random-init] [--out DIR]     (then: npm run -s build, the tests)

Writes a staging folder (out/embedded: weights.safetensors under Hugging Face Mixtral names, a moe.json draft,
tokenizer.json, profile/) and runs `node tools/model/build-embedded.mjs` on it, which builds model.onnx (one
com.microsoft.MoE node per layer) + model.onnx.data and completes moe.json (server/import/embedded.ts), the same
builder and graph as every imported model. Graph I/O, batch fixed at 1:
  inputs   input_ids [1, T] int64, expert_bias [L, E] float32, past_key.{l} / past_value.{l} [1, H, P, Dh] float32
  outputs  logits [1, T, V], router_logits [L, T, E] (raw, before the bias), expert_ids [L, T, K] int64,
           expert_weights [L, T, K], token_logprobs [1, T], router_entropy, present_key.{l} / present_value.{l}
The fixtures (test/fixtures/golden.json) are torch's outputs for the same function (model.py's tanh GELU, as the op's).
"""
import argparse, json, os, shutil, subprocess, sys
import numpy as np
import torch
from safetensors.torch import save_file
from model import Config, MoELM
import bpe

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WORK = os.path.join(HERE, "out")

FIXTURE_TEXTS = [
    "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
    "export function add(a: number, b: number): number {\n\treturn a + b; // sum\n}\r\n",
    "The quick brown fox jumps over the lazy dog. It was 1999, and prices rose 12.5%.",
    "Grüße, 世界! Emoji: 😀👍🏽 — naïve café; combining: e\u0301; 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    '{"name": "moe-lens", "version": "0.1.0", "keywords": ["moe", "routing"]}\n',
]


def to_hf(model):
    """The torch state dict under the Hugging Face (Mixtral) names server/import/tensorNames.ts reads, nn.Linear's
    [out, in] layout; the LayerNorm biases beside their weights. Inverse: from_hf."""
    c, sd, D = model.c, model.state_dict(), model.c.d_model
    out = {"model.embed_tokens.weight": sd["emb.weight"], "model.norm.weight": sd["ln_f.weight"], "model.norm.bias": sd["ln_f.bias"]}
    for l in range(c.n_layer):
        p, b = f"model.layers.{l}", f"blocks.{l}"
        for hf, t in (("input_layernorm", "ln1"), ("post_attention_layernorm", "ln2")):
            out[f"{p}.{hf}.weight"], out[f"{p}.{hf}.bias"] = sd[f"{b}.{t}.weight"], sd[f"{b}.{t}.bias"]
        q, k, v = sd[f"{b}.attn.qkv.weight"].split(D, 0)
        out[f"{p}.self_attn.q_proj.weight"], out[f"{p}.self_attn.k_proj.weight"], out[f"{p}.self_attn.v_proj.weight"] = q, k, v
        out[f"{p}.self_attn.o_proj.weight"] = sd[f"{b}.attn.out.weight"]
        out[f"{p}.block_sparse_moe.gate.weight"] = sd[f"{b}.moe.router.weight"]
        for e in range(c.n_expert):
            out[f"{p}.block_sparse_moe.experts.{e}.w1.weight"] = sd[f"{b}.moe.w1"][e].t()
            out[f"{p}.block_sparse_moe.experts.{e}.w2.weight"] = sd[f"{b}.moe.w2"][e].t()
    return {k: v.contiguous() for k, v in out.items()}


def from_hf(w, c):
    """A state dict for MoELM(c) from to_hf's names."""
    sd = {"emb.weight": w["model.embed_tokens.weight"], "ln_f.weight": w["model.norm.weight"], "ln_f.bias": w["model.norm.bias"]}
    for l in range(c.n_layer):
        p, b = f"model.layers.{l}", f"blocks.{l}"
        for hf, t in (("input_layernorm", "ln1"), ("post_attention_layernorm", "ln2")):
            sd[f"{b}.{t}.weight"], sd[f"{b}.{t}.bias"] = w[f"{p}.{hf}.weight"], w[f"{p}.{hf}.bias"]
        sd[f"{b}.attn.qkv.weight"] = torch.cat([w[f"{p}.self_attn.{x}_proj.weight"] for x in "qkv"], 0)
        sd[f"{b}.attn.out.weight"] = w[f"{p}.self_attn.o_proj.weight"]
        sd[f"{b}.moe.router.weight"] = w[f"{p}.block_sparse_moe.gate.weight"]
        sd[f"{b}.moe.w1"] = torch.stack([w[f"{p}.block_sparse_moe.experts.{e}.w1.weight"].t() for e in range(c.n_expert)])
        sd[f"{b}.moe.w2"] = torch.stack([w[f"{p}.block_sparse_moe.experts.{e}.w2.weight"].t() for e in range(c.n_expert)])
    return sd


def manifest(c, tok_file, provenance):
    return {
        "$schema": "../../schema/moe.schema.json",
        "format": "moe-lens/1",
        "name": provenance.pop("name"),
        "layers": c.n_layer,
        "experts": c.n_expert,
        "topK": c.top_k,
        "vocabSize": c.vocab_size,
        "contextLength": c.context,
        "router": {
            "function": "softmax-topk-renormalized",
            "selection": "topk(router_logits + expert_bias)",
            "gateWeights": "softmax over the raw router logits of the k selected experts",
            "gateWeightsReason": ("The bias steers selection only (as DeepSeek-V3's correction bias does): a disabled "
                                  "expert is never selected, so its weight is 0; a forced expert is selected and gets the "
                                  "weight its own raw logit earns against the other selected expert, not a saturated 1.0."),
            "disableBias": -1e9,
            "forceBias": 1e9,
        },
        "tokenizer": tok_file,
        "profileCorpus": {"dir": "profile", "domains": {d: f"profile/{d}.txt" for d in json.load(open(os.path.join(WORK, "corpus", "sources.json")))["domains"]}},
        "specialTokens": {"endOfText": "<|endoftext|>"},
        "inputs": {"inputIds": "input_ids", "expertBias": "expert_bias"},
        "outputs": {"logits": "logits", "routerLogits": "router_logits", "expertIds": "expert_ids", "expertWeights": "expert_weights",
                    "tokenLogprobs": "token_logprobs"},
        "kvCache": {
            "pastKey": "past_key.{layer}", "pastValue": "past_value.{layer}",
            "presentKey": "present_key.{layer}", "presentValue": "present_value.{layer}",
            "heads": c.n_head, "headDim": c.d_model // c.n_head,
        },
        "provenance": provenance,
    }


def fixtures(model, tok, c):
    out = []
    for text in FIXTURE_TEXTS:
        ids = tok.encode(text)
        with torch.no_grad():
            logits, router, eids, gates, _ = model(torch.tensor([ids]))
        out.append({
            "text": text, "ids": ids,
            "logits_rows": [0, len(ids) - 1],
            "logits": [logits[0, 0].tolist(), logits[0, -1].tolist()],
            "router_logits": torch.cat(router, 0).tolist(),
            "expert_ids": torch.cat(eids, 0).tolist(),
            "expert_weights": torch.cat(gates, 0).tolist(),
        })
    return out


def write_profile_corpus(out_dir, per_domain=8000):
    """A few KB of held-out text per domain, shipped with the model: the extension profiles experts on it to label
    them ("Python keywords", "digits") and the contrastive finder can use it as ready-made sets."""
    dst = os.path.join(out_dir, "profile")
    os.makedirs(dst, exist_ok=True)
    for d in json.load(open(os.path.join(WORK, "corpus", "sources.json")))["domains"]:
        text = open(os.path.join(WORK, "corpus", d, "val.txt"), encoding="utf-8").read()
        out = ""
        for doc in (x for x in text.split(bpe.EOT) if len(x) > 500):
            out += doc[:3000].rsplit("\n", 1)[0] + "\n"
            if len(out) > per_domain:
                break
        open(os.path.join(dst, d + ".txt"), "w", encoding="utf-8").write(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--random-init", action="store_true", help="export the architecture at random init (for the report)")
    ap.add_argument("--out", default=os.path.join(ROOT, "media", "model"))
    ap.add_argument("--fixtures", default=os.path.join(ROOT, "test", "fixtures", "golden.json"))
    args = ap.parse_args()
    torch.manual_seed(1234)
    ck = torch.load(os.path.join(WORK, "ckpt.pt")) if not args.random_init else None
    c = Config(**(ck["config"] if ck else json.load(open(os.path.join(WORK, "config.json")))))
    model = MoELM(c)
    if ck:
        model.load_state_dict(ck["model"])
    model.eval()
    stage = os.path.join(WORK, "embedded")
    shutil.rmtree(stage, ignore_errors=True)
    os.makedirs(stage)
    save_file(to_hf(model), os.path.join(stage, "weights.safetensors"))
    shutil.copy(os.path.join(WORK, "tokenizer.json"), os.path.join(stage, "tokenizer.json"))
    write_profile_corpus(stage)
    tok = bpe.Tokenizer.from_hf_json(os.path.join(WORK, "tokenizer.json"))
    report_path = os.path.join(WORK, "report.json")
    sources = json.load(open(os.path.join(WORK, "corpus", "sources.json")))["domains"]
    finetune = (ck["args"] or {}).get("finetune") if ck else None
    prov_extra = {}
    if finetune:
        # finetune.py continued the shipped weights: the main run's data stays the training data of record, and the
        # corpus of this machine (the fine-tune's data and the held-out split the report measured) is added beside it.
        earlier = json.load(open(os.path.join(args.out, "moe.json")))["provenance"]
        prov_extra = {"finetuneData": sources}
        sources = earlier.get("trainingData", sources)
    prov = {
        "name": "moe-lens-tiny-16e" + ("-random-init" if args.random_init else ""),
        "licence": "MIT (weights and code); training text is permissively licensed, see media/model/README.md",
        "trainingData": sources,
        **prov_extra,
        "recipe": {"script": "tools/model/train.py" + (" + tools/model/finetune.py" if finetune else ""), "steps": ck["step"] if ck else 0,
                   "minutes": round(ck["elapsed"] / 60, 1) if ck else 0, "args": ck["args"] if ck else None},
        "metrics": json.load(open(report_path)) if os.path.exists(report_path) and not args.random_init else None,
    }
    json.dump(manifest(c, "tokenizer.json", prov), open(os.path.join(stage, "moe.json"), "w"), indent=1)
    built = subprocess.run(["node", os.path.join(HERE, "build-embedded.mjs"), stage, args.out], check=True, capture_output=True, text=True)
    prov["sha256"] = built.stdout.strip().splitlines()[-1]
    if args.fixtures:
        os.makedirs(os.path.dirname(args.fixtures), exist_ok=True)
        json.dump({"model_sha256": prov["sha256"], "cases": fixtures(model, tok, c)}, open(args.fixtures, "w"))
    print(f"wrote {args.out}: model.onnx + model.onnx.data {os.path.getsize(os.path.join(args.out, 'model.onnx.data')) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
