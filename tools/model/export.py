"""Export the trained model to media/model/: model.onnx, tokenizer.json, moe.json, plus golden fixtures for tests.

    /usr/bin/python3 tools/model/export.py [--random-init] [--out DIR]

Graph (opset 17), batch fixed at 1:
  inputs   input_ids [1, T] int64, expert_bias [L, E] float32, past_key.{l} / past_value.{l} [1, H, P, Dh] float32
  outputs  logits [1, T, V], router_logits [L, T, E] (raw, before the bias), expert_ids [L, T, K] int64,
           expert_weights [L, T, K], token_logprobs [1, T] (log p of each token given the ones before it, 0 for
           the first of the call), present_key.{l} / present_value.{l} [1, H, P+T, Dh]
"""
import argparse, hashlib, json, os, shutil, sys
import numpy as np
import torch
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


class Wrapper(torch.nn.Module):
    """Flattens the model's outputs into the tensor list the ONNX graph exposes."""

    def __init__(self, model):
        super().__init__()
        self.m = model

    def forward(self, input_ids, expert_bias, *past):
        logits, router, ids, gates, present = self.m(input_ids, expert_bias, list(past))
        # log p(token t | tokens before it) for t >= 1 of this call, 0 for the first (its predecessor's logits were
        # in an earlier call): the server reads surprisal from this [1, T] output and leaves the [1, T, V] logits
        # in the graph, which spares a copy of the logits and a log-sum-exp over the vocabulary per token in JS.
        lp = torch.log_softmax(logits[:, :-1], -1).gather(-1, input_ids[:, 1:, None]).squeeze(-1)
        token_logprobs = torch.cat([torch.zeros(1, 1), lp], 1)
        return (logits, torch.cat(router, 0), torch.cat(ids, 0), torch.cat(gates, 0), token_logprobs, *present)


def names(c):
    past = [f"past_{kv}.{l}" for l in range(c.n_layer) for kv in ("key", "value")]
    present = [f"present_{kv}.{l}" for l in range(c.n_layer) for kv in ("key", "value")]
    return past, present


def export_onnx(model, path):
    c = model.c
    past_names, present_names = names(c)
    dh = c.d_model // c.n_head
    ids = torch.randint(0, c.vocab_size, (1, 7))
    past = [torch.randn(1, c.n_head, 3, dh) for _ in past_names]
    dyn = {"input_ids": {1: "T"}, "logits": {1: "T"}, "router_logits": {1: "T"}, "expert_ids": {1: "T"}, "expert_weights": {1: "T"},
           "token_logprobs": {1: "T"}}
    dyn.update({n: {2: "P"} for n in past_names})
    dyn.update({n: {2: "S"} for n in present_names})
    torch.onnx.export(Wrapper(model), (ids, torch.zeros(c.n_layer, c.n_expert), *past), path, opset_version=17,
                      input_names=["input_ids", "expert_bias", *past_names],
                      output_names=["logits", "router_logits", "expert_ids", "expert_weights", "token_logprobs", *present_names],
                      dynamic_axes=dyn, do_constant_folding=True)


def manifest(c, tok_file, provenance):
    past_names, present_names = names(c)
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
    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, "model.onnx")
    export_onnx(model, onnx_path)
    shutil.copy(os.path.join(WORK, "tokenizer.json"), os.path.join(args.out, "tokenizer.json"))
    write_profile_corpus(args.out)
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
        "sha256": hashlib.sha256(open(onnx_path, "rb").read()).hexdigest(),
    }
    json.dump(manifest(c, "tokenizer.json", prov), open(os.path.join(args.out, "moe.json"), "w"), indent=1)
    if args.fixtures:
        os.makedirs(os.path.dirname(args.fixtures), exist_ok=True)
        json.dump({"model_sha256": prov["sha256"], "cases": fixtures(model, tok, c)}, open(args.fixtures, "w"))
    print(f"wrote {args.out}: model.onnx {os.path.getsize(onnx_path) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
