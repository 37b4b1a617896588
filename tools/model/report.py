"""Report on the trained model and on the same architecture at random init, side by side.

    /usr/bin/python3 tools/model/report.py            # prints tables, writes work/report.json and work/report.md

Measures on the held-out split of every domain:
- bits per byte (nats per predicted token / ln 2 / bytes of the predicted tokens);
- per layer: expert usage f_i (share of top-k slots), LBL = N_E * sum_i f_i * p_i (Switch; 1 = perfectly even);
- per layer: mutual information (bits) between the top-1 expert and (a) the token's character class, (b) its domain.
"""
import json, math, os
from collections import Counter
import numpy as np
import torch
import torch.nn.functional as F
from model import Config, MoELM
import bpe

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, "out")
DOMAINS = ["typescript_js", "python", "c_cpp", "markdown", "json"]
CLASSES = ["whitespace", "digits", "lowercase word", "capitalised word", "punctuation", "non-ASCII", "mixed"]


def char_class(s):
    """Coarse character class of a token's text (leading space ignored for words, as BPE attaches it)."""
    if s == "" or not s.isascii():
        return "non-ASCII"
    if s.isspace():
        return "whitespace"
    core = s[1:] if s.startswith(" ") and len(s) > 1 else s
    if core.isdigit():
        return "digits"
    if core.isalpha():
        return "lowercase word" if core.islower() else "capitalised word"
    if not any(c.isalnum() for c in core):
        return "punctuation"
    return "mixed"


def mutual_information(xs, ys):
    """Plug-in MI estimate in bits from paired samples."""
    n = len(xs)
    joint, px, py = Counter(zip(xs, ys)), Counter(xs), Counter(ys)
    return sum(c / n * math.log2(c * n / (px[x] * py[y])) for (x, y), c in joint.items())


@torch.no_grad()
def measure(model, tok, val):
    c = model.c
    out = {"bits_per_byte": {}, "layers": []}
    top1 = [[] for _ in range(c.n_layer)]
    slots = [np.zeros(c.n_expert) for _ in range(c.n_layer)]
    probs = [np.zeros(c.n_expert) for _ in range(c.n_layer)]
    classes, domains = [], []
    tot_nats = tot_bytes = 0.0
    for d in DOMAINS:
        arr = val[d]
        nats = nbytes = 0.0
        for i in range(0, len(arr) - 1, c.context):
            x = arr[i:i + c.context][None]
            y = arr[i + 1:i + c.context + 1]
            logits, router, ids, _, _ = model(x)
            nats += F.cross_entropy(logits[0, :len(y)], y, reduction="sum").item()
            nbytes += sum(len(tok.token_bytes(t)) for t in y.tolist())
            for l in range(c.n_layer):
                top1[l].extend(ids[l][0, :, 0].tolist())
                slots[l] += np.bincount(ids[l][0].reshape(-1).numpy(), minlength=c.n_expert)
                probs[l] += router[l][0].softmax(-1).sum(0).numpy()
            classes.extend(char_class(tok.decode([t])) for t in x[0].tolist())
            domains.extend([d] * x.shape[1])
        out["bits_per_byte"][d] = nats / math.log(2) / nbytes
        tot_nats += nats; tot_bytes += nbytes
    out["bits_per_byte"]["overall"] = tot_nats / math.log(2) / tot_bytes
    n_tok = len(classes)
    for l in range(c.n_layer):
        f = slots[l] / slots[l].sum()
        p = probs[l] / n_tok
        out["layers"].append({
            "f": [round(float(v), 4) for v in f],
            "min_f": round(float(f.min()), 4),
            "lbl": round(float(c.n_expert * (f * p).sum()), 4),
            "mi_char_class_bits": round(mutual_information(top1[l], classes), 3),
            "mi_domain_bits": round(mutual_information(top1[l], domains), 3),
        })
    out["tokens"] = n_tok
    out["class_entropy_bits"] = round(mutual_information(classes, classes), 3)
    out["domain_entropy_bits"] = round(mutual_information(domains, domains), 3)
    return out


def main():
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    tok = bpe.Tokenizer.from_hf_json(os.path.join(WORK, "tokenizer.json"))
    limit = int(os.environ.get("REPORT_MAX_TOKENS", "0")) or None  # a quick look while training runs
    val = {d: torch.from_numpy(np.load(os.path.join(WORK, "tokens", f"{d}.val.npy")).astype(np.int64))[:limit] for d in DOMAINS}
    ck = torch.load(os.path.join(WORK, "ckpt.pt"))
    c = Config(**ck["config"])
    torch.manual_seed(1234)  # the same random init that export.py --random-init writes
    rand = MoELM(c).eval()
    trained = MoELM(c)
    trained.load_state_dict(ck["model"])
    trained.eval()
    res = {"trained": measure(trained, tok, val), "random_init": measure(rand, tok, val),
           "steps": ck["step"], "train_minutes": round(ck["elapsed"] / 60, 1)}
    json.dump(res, open(os.path.join(WORK, "report.json"), "w"), indent=1)
    md = ["| held-out bits per byte | trained | random init |", "|---|---|---|"]
    for d in DOMAINS + ["overall"]:
        md.append(f"| {d} | {res['trained']['bits_per_byte'][d]:.3f} | {res['random_init']['bits_per_byte'][d]:.3f} |")
    md += ["", "| layer | LBL trained | LBL random | min f_i trained | MI(char class; top-1) trained | random | MI(domain; top-1) trained | random |",
           "|---|---|---|---|---|---|---|---|"]
    for l, (a, b) in enumerate(zip(res["trained"]["layers"], res["random_init"]["layers"])):
        md.append(f"| {l} | {a['lbl']:.3f} | {b['lbl']:.3f} | {a['min_f'] * 100:.2f}% | {a['mi_char_class_bits']:.3f} | {b['mi_char_class_bits']:.3f} | {a['mi_domain_bits']:.3f} | {b['mi_domain_bits']:.3f} |")
    best = max(range(c.n_layer), key=lambda l: res["trained"]["layers"][l]["mi_domain_bits"])
    md.append(f"\nDomain specialisation is strongest at layer {best} "
              f"(MI {res['trained']['layers'][best]['mi_domain_bits']:.3f} bits of H(domain) = {res['trained']['domain_entropy_bits']:.3f}); "
              f"H(char class) = {res['trained']['class_entropy_bits']:.3f} bits; {res['trained']['tokens']} held-out tokens.")
    res["strongest_domain_layer"] = best
    json.dump(res, open(os.path.join(WORK, "report.json"), "w"), indent=1)
    open(os.path.join(WORK, "report.md"), "w").write("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
