"""Continue training the shipped model from its ONNX weights (the training checkpoint is not committed: it is
large and machine-specific, but the weights are all in media/model/model.onnx).

    python3 tools/model/finetune.py --minutes 4.9 [--aux-coef 0.05] [--lr 6e-4]

Reads media/model/model.onnx (+ model.onnx.data) and moe.json (steps and minutes already spent), checks the rebuilt torch model against
the golden fixtures, trains for --minutes more with the given load-balance coefficient (a stronger one revives
experts the first run left nearly unused), and writes out/ckpt.pt in train.py's format with the total steps and
minutes, so report.py, export.py and card.py run unchanged. Needs out/tokens from
`prepare.py --tokenizer media/model/tokenizer.json` (the same token ids the model was trained on).
"""
import argparse, json, math, os, random, subprocess, tempfile, time
import numpy as np
from safetensors.torch import load_file
import torch
import torch.nn.functional as F
from model import MoELM, load_balance_loss
from export import from_hf
import train as T

ROOT = os.path.dirname(os.path.dirname(T.HERE))
MODEL_DIR = os.path.join(ROOT, "media", "model")


def load_from_onnx(model, model_dir):
    """Fill `model` from the shipped graph's weights: tools/model/embedded-weights.mjs reads them out of model.onnx +
    model.onnx.data under export.py's Hugging Face names, and export.from_hf maps them back to MoELM's."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "weights.safetensors")
        subprocess.run(["node", os.path.join(T.HERE, "embedded-weights.mjs"), model_dir, path], check=True, capture_output=True)
        model.load_state_dict(from_hf(load_file(path), model.c))


@torch.no_grad()
def check_against_golden(model):
    """The rebuilt model must reproduce the exported fixtures (else the mapping above is wrong)."""
    gold = json.load(open(os.path.join(ROOT, "test", "fixtures", "golden.json")))
    worst = 0.0
    for case in gold["cases"]:
        logits, router, *_ = model(torch.tensor([case["ids"]]))
        worst = max(worst, (logits[0, -1] - torch.tensor(case["logits"][1])).abs().max().item(),
                    (torch.cat(router, 0) - torch.tensor(case["router_logits"])).abs().max().item())
    assert worst < 1e-3, f"weights read from ONNX do not reproduce the golden fixtures (max diff {worst})"
    print(f"rebuilt from ONNX: golden fixtures reproduced (max diff {worst:.2e})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, required=True)
    ap.add_argument("--aux-coef", type=float, default=0.05)
    ap.add_argument("--lr", type=float, default=6e-4)
    ap.add_argument("--seed", type=int, default=4321)
    args = ap.parse_args()
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    torch.manual_seed(args.seed); random.seed(args.seed); np.random.seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    c = T.config()
    model = MoELM(c)
    load_from_onnx(model, MODEL_DIR)
    model.eval(); check_against_golden(model); model.train()
    recipe = json.load(open(os.path.join(MODEL_DIR, "moe.json")))["provenance"]["recipe"]
    prior_steps, prior_min = recipe.get("steps", 0), recipe.get("minutes", 0.0)
    # (on weights that were already fine-tuned, recipe steps/minutes are the totals so far: counting goes on from them)
    train, val = T.load_split("train"), T.load_split("val")
    weights = torch.tensor([math.sqrt(len(train[d])) for d in T.DOMAINS])
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.1, foreach=True)
    budget, t0, step, log = args.minutes * 60, time.time(), 0, []
    while time.time() - t0 < budget:
        progress = (time.time() - t0) / budget
        # Short warm-up (Adam's moments start empty), then cosine down to the first run's final learning rate.
        lr = args.lr * min(1.0, (step + 1) / 10) if step < 10 else T.LR_MIN + 0.5 * (args.lr - T.LR_MIN) * (1 + math.cos(math.pi * progress))
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = T.get_batch(train, weights, c.context, gen)
        logits, router, ids, _, _ = model(x)
        ce = F.cross_entropy(logits.view(-1, c.vocab_size), y.view(-1))
        aux = sum(load_balance_loss(r, i, c.n_expert) for r, i in zip(router, ids)) / c.n_layer
        opt.zero_grad(set_to_none=True)
        (ce + args.aux_coef * aux).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if step % 10 == 0:
            rec = {"step": prior_steps + step, "min": round(prior_min + (time.time() - t0) / 60, 2), "lr": round(lr, 6),
                   "ce": round(ce.item(), 4), "lbl": round(aux.item(), 4), "T": c.context}
            log.append(rec)
            print(json.dumps(rec), flush=True)
    elapsed = time.time() - t0
    ev = T.evaluate(model, val, max_tokens=8192)
    print("val nats/token", {d: round(v, 3) for d, v in ev.items()}, flush=True)
    torch.save({"model": model.state_dict(), "step": prior_steps + step, "elapsed": prior_min * 60 + elapsed, "log": log,
                "config": c.to_dict(),
                "args": {"script": "tools/model/train.py then tools/model/finetune.py", "finetune": {
                    "fromSteps": prior_steps, "fromMinutes": prior_min, "steps": step, "minutes": round(elapsed / 60, 2),
                    "auxCoef": args.aux_coef, "lr": args.lr, "seed": args.seed}}},
               os.path.join(T.WORK, "ckpt.pt"))
    print(f"done: {step} fine-tune steps in {elapsed / 60:.1f} min; total {prior_steps + step} steps, "
          f"{prior_min + elapsed / 60:.1f} min", flush=True)


if __name__ == "__main__":
    main()
