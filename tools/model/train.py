"""Train the embedded MoE Lens model. Seeded, checkpointed every few minutes, resumable with --resume.

    /usr/bin/python3 tools/model/train.py [--minutes 75] [--max-steps 4000] [--resume]

The learning-rate schedule follows progress = max(step / max_steps, elapsed / time budget), so a run on a busy
2-core machine still anneals fully before its time is up; the steps actually taken are logged and written to the
checkpoint (rerun with --max-steps set to them and a large --minutes to repeat the same schedule by steps).
Sequences are 256 tokens for the first 70% of progress and 512 (the full context) after, same tokens per batch.
"""
import argparse, json, math, os, random, time
import numpy as np
import torch
import torch.nn.functional as F
from model import Config, MoELM, load_balance_loss

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, "out")
DOMAINS = ["typescript_js", "python", "c_cpp", "markdown", "json"]
BATCH_TOKENS = 4096  # small batches: on 2 cores more updates beat bigger batches for a short run
AUX_COEF = 0.01     # Switch Transformer's load-balance coefficient
LR, LR_MIN, WARMUP = 3e-3, 1.5e-4, 60


def config():
    return Config(vocab_size=4096, n_layer=4, n_head=4, d_model=128, n_expert=16, top_k=2, d_ff=256, context=512)


def load_split(split):
    return {d: torch.from_numpy(np.load(os.path.join(WORK, "tokens", f"{d}.{split}.npy")).astype(np.int64)) for d in DOMAINS}


def lr_at(step, progress):
    if step < WARMUP:
        return LR * (step + 1) / WARMUP
    return LR_MIN + 0.5 * (LR - LR_MIN) * (1 + math.cos(math.pi * min(progress, 1.0)))


def get_batch(data, weights, T, gen):
    B = BATCH_TOKENS // T
    doms = torch.multinomial(weights, B, replacement=True, generator=gen)
    xs, ys = [], []
    for di in doms.tolist():
        arr = data[DOMAINS[di]]
        i = int(torch.randint(0, len(arr) - T - 1, (1,), generator=gen))
        xs.append(arr[i:i + T]); ys.append(arr[i + 1:i + T + 1])
    return torch.stack(xs), torch.stack(ys)


@torch.no_grad()
def evaluate(model, val, max_tokens=None):
    """Mean loss (nats/token) per domain on held-out text in non-overlapping context windows."""
    model.eval()
    out = {}
    for d in DOMAINS:
        arr = val[d] if max_tokens is None else val[d][:max_tokens]
        T = model.c.context
        tot, n = 0.0, 0
        for i in range(0, len(arr) - 1, T):
            x = arr[i:i + T][None]
            y = arr[i + 1:i + T + 1][None]
            x = x[:, :y.shape[1]]
            logits = model(x)[0]
            tot += F.cross_entropy(logits.view(-1, logits.shape[-1]), y.view(-1), reduction="sum").item()
            n += y.numel()
        out[d] = tot / n
    model.train()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=75)
    ap.add_argument("--max-steps", type=int, default=4000)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    torch.manual_seed(args.seed); random.seed(args.seed); np.random.seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    c = config()
    model = MoELM(c)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, betas=(0.9, 0.95), weight_decay=0.1, foreach=True)
    train, val = load_split("train"), load_split("val")
    # Domains sampled ∝ sqrt(size): the small domains (prose, JSON) are seen more than their share, not drowned.
    weights = torch.tensor([math.sqrt(len(train[d])) for d in DOMAINS])
    ckpt_path = os.path.join(WORK, "ckpt.pt")
    step, elapsed, log = 0, 0.0, []
    if args.resume and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"]); opt.load_state_dict(ck["opt"]); gen.set_state(ck["gen"])
        step, elapsed, log = ck["step"], ck["elapsed"], ck["log"]
        print(f"resumed at step {step}, {elapsed / 60:.1f} min")
    budget = args.minutes * 60
    t_start, last_ckpt = time.time() - elapsed, time.time()
    print(f"params {sum(p.numel() for p in model.parameters()) / 1e6:.2f}M, config {c.to_dict()}", flush=True)

    def save():
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(), "step": step,
                    "elapsed": time.time() - t_start, "log": log, "config": c.to_dict(), "args": vars(args)}, ckpt_path + ".tmp")
        os.replace(ckpt_path + ".tmp", ckpt_path)

    while True:
        elapsed = time.time() - t_start
        progress = max(step / args.max_steps, elapsed / budget)
        if progress >= 1.0:
            break
        for g in opt.param_groups:
            g["lr"] = lr_at(step, progress)
        T = 256 if progress < 0.7 else 512
        x, y = get_batch(train, weights, T, gen)
        logits, router, ids, _, _ = model(x)
        ce = F.cross_entropy(logits.view(-1, c.vocab_size), y.view(-1))
        aux = sum(load_balance_loss(r, i, c.n_expert) for r, i in zip(router, ids)) / c.n_layer
        loss = ce + AUX_COEF * aux
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if step % 25 == 0:
            rec = {"step": step, "min": round(elapsed / 60, 2), "lr": round(opt.param_groups[0]["lr"], 6),
                   "ce": round(ce.item(), 4), "lbl": round(aux.item(), 4), "T": T}
            log.append(rec)
            print(json.dumps(rec), flush=True)
        if step % 250 == 0:
            ev = evaluate(model, val, max_tokens=8192)
            print("val nats/token", {d: round(v, 3) for d, v in ev.items()}, flush=True)
        if time.time() - last_ckpt > 300:
            save(); last_ckpt = time.time()
    save()
    print(f"done: {step} steps in {(time.time() - t_start) / 60:.1f} min", flush=True)


if __name__ == "__main__":
    main()
