"""Train the BPE tokenizer on the training split and tokenise every split into work/tokens/<domain>.<split>.npy.

Run after corpus.py:  /usr/bin/python3 tools/model/prepare.py [--tokenizer media/model/tokenizer.json]
With --tokenizer the merges are not learned again but read from that file (to fine-tune the shipped model on the
exact token ids it was trained with).
"""
import argparse, json, os, shutil, sys, time
import numpy as np
import bpe

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, "out")
VOCAB = 4096
SAMPLE = 1_500_000  # bytes per domain for learning merges: enough for stable merges, a minute of work


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", help="an existing tokenizer.json to reuse instead of learning merges")
    args = ap.parse_args()
    src = json.load(open(os.path.join(WORK, "corpus", "sources.json")))
    domains = list(src["domains"])
    texts = {(d, s): open(os.path.join(WORK, "corpus", d, s + ".txt"), encoding="utf-8").read()
             for d in domains for s in ("train", "val")}
    t0 = time.time()
    if args.tokenizer:
        tok = bpe.Tokenizer.from_hf_json(args.tokenizer)
        shutil.copy(args.tokenizer, os.path.join(WORK, "tokenizer.json"))
    else:
        merges = bpe.train([texts[(d, "train")][:SAMPLE] for d in domains], VOCAB)
        tok = bpe.Tokenizer(merges)
        json.dump(tok.to_hf_json(), open(os.path.join(WORK, "tokenizer.json"), "w", encoding="utf-8"), ensure_ascii=False)
    print(f"tokenizer: {len(tok.vocab) + 1} tokens in {time.time() - t0:.0f}s")
    os.makedirs(os.path.join(WORK, "tokens"), exist_ok=True)
    stats = {}
    for (d, s), text in texts.items():
        ids = np.array(tok.encode(text), dtype=np.uint16)
        np.save(os.path.join(WORK, "tokens", f"{d}.{s}.npy"), ids)
        stats[f"{d}.{s}"] = {"tokens": int(len(ids)), "bytes": len(text.encode()), "bytes_per_token": len(text.encode()) / max(1, len(ids))}
        print(f"{d:14s} {s:5s} {len(ids):9d} tokens  {stats[f'{d}.{s}']['bytes_per_token']:.2f} bytes/token")
    json.dump(stats, open(os.path.join(WORK, "tokens", "stats.json"), "w"), indent=1)


if __name__ == "__main__":
    sys.exit(main())
