"""What a user would run instead of MoE Lens: Hugging Face transformers on the bench's OLMoE checkpoint.

Called by bench/olmoeQuant.ts (npm run bench:quant -- --transformers PYTHON), one fresh process per dtype so that the
peak RSS is that dtype's alone:
    python bench/transformers_olmoe.py HF_DIR IDS_JSON DTYPE
IDS_JSON holds {"ids": [...]}: the token ids MoE Lens analysed. DTYPE is fp32 or bf16 (the checkpoint's own dtype,
what from_pretrained gives by default for it). One forward over all the ids with output_router_logits=True, torch
threads = cores, after a short warm-up run; prints one JSON line: load and forward seconds, peak RSS in MB.
"""
import json
import os
import resource
import sys
import time

import torch
from transformers import AutoModelForCausalLM


def main() -> None:
    hf, ids_file, dtype = sys.argv[1], sys.argv[2], sys.argv[3]
    torch.set_num_threads(os.cpu_count() or 1)
    with open(ids_file, encoding="utf-8") as f:
        ids = json.load(f)["ids"]
    t0 = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(hf, dtype=torch.float32 if dtype == "fp32" else torch.bfloat16)
    model.eval()
    load_s = time.perf_counter() - t0
    x = torch.tensor([ids], dtype=torch.long)
    with torch.inference_mode():
        model(x[:, :8], output_router_logits=True)  # warm-up: kernels chosen, lazy init done
        t1 = time.perf_counter()
        out = model(x, output_router_logits=True)
        forward_s = time.perf_counter() - t1
    assert len(out.router_logits) == model.config.num_hidden_layers
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB
    print(json.dumps({"dtype": dtype, "tokens": len(ids), "loadS": load_s, "forwardS": forward_s, "peakRssMB": peak_mb, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
