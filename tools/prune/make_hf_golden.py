"""Records what transformers computes on `moe-lens prune --hf` checkpoints (test/fixtures/prune/<arch>.json), so
test/model/prunedHf.test.ts can check, without Python, that the pruned Hugging Face checkpoint MoE Lens writes is the
model its pruned model directory runs.

For each tiny checkpoint of test/fixtures/hf: `moe-lens import` it, `moe-lens prune --keep 4 --criterion frequency
--out OUT --hf` on its golden texts, load OUT/hf with transformers (AutoModelForCausalLM, float32) and record the
logits at the fixture's logit indices for each golden text's token ids, the kept experts (moe.json provenance) and the
sha256 of the model.safetensors it loaded.

    node esbuild.mjs && .venv/bin/python tools/prune/make_hf_golden.py [ARCH …]
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import torch
import transformers
from transformers import AutoModelForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARCHS = sys.argv[1:] or ["mixtral", "olmoe", "qwen2_moe", "qwen3_moe", "granitemoe", "phimoe"]
KEEP = 4


def cli(*args):
    r = subprocess.run(["node", os.path.join(ROOT, "dist", "cli.js"), *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"moe-lens {' '.join(args)} failed: {r.stderr}")
    return r.stdout


def main():
    out_dir = os.path.join(ROOT, "test", "fixtures", "prune")
    os.makedirs(out_dir, exist_ok=True)
    for arch in ARCHS:
        fixture = os.path.join(ROOT, "test", "fixtures", "hf", arch)
        golden = json.load(open(os.path.join(fixture, "golden.json")))
        tmp = tempfile.mkdtemp(prefix=f"moe-lens-prune-golden-{arch}-")
        try:
            hub = os.path.join(tmp, "hub")
            os.makedirs(hub)
            for f in os.listdir(fixture):
                if f != "golden.json":
                    shutil.copy(os.path.join(fixture, f), os.path.join(hub, f))  # copies: the importer follows no link out of the folder
            shutil.copy(os.path.join(ROOT, golden["tokenizer"]["npm_folder"], "tokenizer.json"), os.path.join(hub, "tokenizer.json"))
            cli("import", hub, os.path.join(tmp, "imported"))
            corpus = os.path.join(tmp, "corpus.txt")
            with open(corpus, "w") as f:
                f.write("\n".join(t["text"] for t in golden["texts"]))
            pruned = os.path.join(tmp, "pruned")
            cli("prune", "--model", os.path.join(tmp, "imported"), "--corpus", corpus, "--eval", corpus, "--keep", str(KEEP),
                "--criterion", "frequency", "--draws", "1", "--out", pruned, "--hf", "--json")
            kept = json.load(open(os.path.join(pruned, "moe.json")))["provenance"]["reducedFrom"]["kept"]
            hf = os.path.join(pruned, "hf")
            sha = hashlib.sha256(open(os.path.join(hf, "model.safetensors"), "rb").read()).hexdigest()
            model = AutoModelForCausalLM.from_pretrained(hf, dtype=torch.float32)
            model.eval()
            texts = []
            INDICES = golden["logit_indices"][:64]  # a sample of the vocabulary keeps the golden small
            with torch.no_grad():
                for t in golden["texts"]:
                    ids = t["input_ids"]
                    logits = model(torch.tensor([ids])).logits[0]
                    texts.append({"name": t["name"], "input_ids": ids, "logits_at_indices": [[round(x, 6) for x in row] for row in logits[:, INDICES].tolist()],
                                  "argmax": logits.argmax(-1).tolist()})
            record = {"architecture": golden["architecture"], "transformers": transformers.__version__, "keep": KEEP, "kept": kept,
                      "safetensors_sha256": sha, "config_experts": model.config.num_local_experts if hasattr(model.config, "num_local_experts") else model.config.num_experts,
                      "logit_indices": INDICES, "texts": texts}
            with open(os.path.join(out_dir, f"{arch}.json"), "w") as f:
                json.dump(record, f)
            print(f"{arch}: kept {kept}, sha256 {sha[:12]}")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
