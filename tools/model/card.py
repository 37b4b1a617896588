"""Write media/model/README.md (the model card) and the metrics in moe.json from work/report.json.

    /usr/bin/python3 tools/model/card.py        # after report.py and export.py
"""
import json, os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WORK = os.path.join(HERE, "out")
OUT = os.path.join(ROOT, "media", "model")


def main():
    rep = json.load(open(os.path.join(WORK, "report.json")))
    man_path = os.path.join(OUT, "moe.json")
    man = json.load(open(man_path))
    # The main run's data; after finetune.py the fine-tune's corpus (which also holds the held-out split the report
    # measured) is in provenance.finetuneData.
    src = man["provenance"]["trainingData"]
    ft_src = man["provenance"].get("finetuneData")
    ft = ((man["provenance"].get("recipe") or {}).get("args") or {}).get("finetune")
    man["provenance"]["metrics"] = {
        "heldOutBitsPerByte": {k: round(v, 3) for k, v in rep["trained"]["bits_per_byte"].items()},
        "layers": [{k: l[k] for k in ("lbl", "min_f", "mi_char_class_bits", "mi_domain_bits")} for l in rep["trained"]["layers"]],
        "strongestDomainLayer": rep["strongest_domain_layer"],
    }
    json.dump(man, open(man_path, "w"), indent=1)
    tr, rnd = rep["trained"], rep["random_init"]
    def table(domains):
        rows = []
        for d, v in domains.items():
            lic = ", ".join(f"{k} ({n})" for k, n in sorted(v["licences"].items(), key=lambda kv: -kv[1]))
            rows.append(f"| {d} | {v['train']['files']} | {v['train']['bytes'] / 1e6:.2f} MB | {v['val']['files']} | {v['val']['bytes'] / 1e3:.0f} KB | {lic} |")
        return "| domain | train files | train | held-out files | held-out | licences (files) |\n|---|---:|---:|---:|---:|---|\n" + "\n".join(rows)
    data_section = table(src)
    recipe_extra = ""
    if ft_src and ft:
        data_section += f"""

The fine-tune (below) ran on a later machine, where the same script found a smaller corpus (no PyTorch headers
were installed, fewer npm packages outside this project): its files, and the held-out split every number on this
card was measured on, are these. The split is by a hash of the file path, so a held-out file was never trained on
in either run.

{table(ft_src)}"""
        recipe_extra = f""" Then `tools/model/finetune.py` read the weights back from model.onnx (checked against
the golden fixtures) and trained {ft['steps']} more steps in {ft['minutes']} minutes with the full 512-token context, a
stronger load-balance coefficient {ft['auxCoef']} (the first run had left one layer-1 expert at 0.09% of the routed
slots), learning rate {ft['lr']} decaying to 1.5e-4, fresh AdamW moments, seed {ft['seed']}: {ft['fromSteps']} + {ft['steps']} =
{rep['steps']} steps in {ft['fromMinutes']} + {ft['minutes']} = {rep['train_minutes']} minutes in all."""
    bpb = "\n".join(f"| {d} | {tr['bits_per_byte'][d]:.3f} | {rnd['bits_per_byte'][d]:.3f} |" for d in list(src) + ["overall"])
    layers = "\n".join(
        f"| {l} | {a['lbl']:.3f} | {b['lbl']:.3f} | {a['min_f'] * 100:.2f}% | {a['mi_char_class_bits']:.3f} | {b['mi_char_class_bits']:.3f} | {a['mi_domain_bits']:.3f} | {b['mi_domain_bits']:.3f} |"
        for l, (a, b) in enumerate(zip(tr["layers"], rnd["layers"])))
    best = rep["strongest_domain_layer"]
    c = man
    text = f"""# {c['name']} — the embedded MoE Lens model

A small Mixture-of-Experts language model trained for MoE Lens, so that the extension works on a fresh offline machine
and its routing views show a genuinely trained MoE whose experts specialise.

## Architecture
- Decoder-only transformer, {c['layers']} layers, d_model 128, 4 attention heads with RoPE, pre-LayerNorm, tied
  input/output embeddings, context {c['contextLength']} tokens, KV cache inputs/outputs.
- Every layer's feed-forward is a sparse MoE: {c['experts']} experts (GELU MLP 128 → 256 → 128, tanh GELU: the com.microsoft.MoE op's), top-{c['topK']} routing.
  Router: softmax over the router logits, top-k, renormalised over the k (`{c['router']['function']}`).
- Steering input `expert_bias` [L, E] is added to the router logits for *selection only*; gate weights come from the
  raw logits of the selected experts. {c['router']['gateWeightsReason']}
- 4.99 M parameters (4.2 M in experts; about 1.3 M active per token); model.onnx + model.onnx.data {(os.path.getsize(os.path.join(OUT, 'model.onnx')) + os.path.getsize(os.path.join(OUT, 'model.onnx.data'))) / 1e6:.1f} MB, built by the importer's graph builder (one com.microsoft.MoE op per layer).
- Tokenizer: byte-level BPE, {c['vocabSize']} tokens (256 bytes, 3839 merges, `<|endoftext|>`), GPT-2 pre-tokenisation,
  trained by `tools/model/bpe.py` on 1.5 MB per domain; written as a Hugging Face `tokenizer.json`.

## Data and licences
Five labelled domains of permissively licensed text already on a machine like ours (the Python standard library,
C/C++ headers of PyTorch, pybind11 and Node.js, and TypeScript/JavaScript, Markdown and JSON from the npm packages
this project installs, each package's licence field checked). 1 in 10 files (by path hash) is held out.

{data_section}

`profile/` holds ~8 KB of held-out text per domain, used to label experts and as ready-made contrast sets.

## Recipe
`tools/model/train.py`: AdamW (β 0.9/0.95, weight decay 0.1), peak learning rate 3e-3 with 60 warm-up steps and a
cosine decay to 1.5e-4 over the time budget, 4096 tokens per batch (sequences of 256 tokens for the first 70% of
training, then the full 512), domains sampled ∝ √size, load-balance loss LBL = N·Σ fᵢ·pᵢ over the whole batch with
coefficient 0.01, gradient clipping 1.0, seed 1234. {ft['fromSteps'] if ft else rep['steps']} steps in {ft['fromMinutes'] if ft else rep['train_minutes']} minutes on a 2-core CPU
(Debian torch 1.13); checkpointed every 5 minutes and resumable.{recipe_extra}

## Measured (tools/model/report.py, held-out split, {tr['tokens']} tokens)

| held-out bits per byte | trained | random init |
|---|---:|---:|
{bpb}

| layer | LBL trained | LBL random | min fᵢ trained | MI(char class; top-1) trained | random | MI(domain; top-1) trained | random |
|---|---:|---:|---:|---:|---:|---:|---:|
{layers}

MI in bits (plug-in estimate); H(char class) = {tr['class_entropy_bits']:.3f} bits over 7 classes (whitespace, digits,
lowercase word, capitalised word, punctuation, non-ASCII, mixed), H(domain) = {tr['domain_entropy_bits']:.3f} bits.
Domain specialisation is strongest at layer {best}. At random init the router already maps token ids to experts
deterministically, and the domains use different tokens, so MI(domain; top-1) is not zero there either; the trained
router's MI with the character class is what training adds.

## Intended use
Routing introspection and steering demonstrations inside MoE Lens. It is far too small to be a useful language
model: do not use its continuations for anything but seeing how steering changes them.
"""
    open(os.path.join(OUT, "README.md"), "w").write(text)
    print(text[-2000:])


if __name__ == "__main__":
    main()
