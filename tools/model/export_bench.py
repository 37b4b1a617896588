"""Models for the benchmark (bench/, `npm run bench`); everything goes to bench/out/ (git-ignored).

    /usr/bin/python3 tools/model/export_bench.py --synthetic [--out bench/out]   # wide model, full graph + manifest
    /usr/bin/python3 tools/model/export_bench.py --bare [--out bench/out]        # input_ids -> logits graphs
    /usr/bin/python3 tools/model/export_bench.py --torch-time MODEL --lengths 512,1024 [--reps 3]  # PyTorch eager

--synthetic  a wide MoE with random weights (fixed seed), the same graph conventions as export.py (same tensor
             names, manifest format, tokenizer, vocab 4096), context 4096: bench/out/wide/{model.onnx, moe.json,
             tokenizer.json, weights.pt, check.json}. Its MoE layers are exported dense (see dense_moe): the graph's
             size does not grow with the number of experts, so onnxruntime opens it in seconds.
--bare       the same models without router outputs, expert_bias or KV cache (zero bias inside the graph):
             bench/out/wide-bare/model.onnx (needs --synthetic first) and bench/out/embedded-bare/model.onnx, from
             the weights inside media/model/model.onnx (read back into model.py's MoELM).
--torch-time times the eager PyTorch forward (no_grad, CPU, all cores) of `wide` or `embedded` with the same
             weights, in windows of the model's context as the analyser does; prints one JSON line.
Imports model.py and export.py unchanged.
"""
import argparse, hashlib, json, os, shutil, statistics, sys, time
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import Config, MoELM  # noqa: E402
import export  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
TOKENIZER = os.path.join(ROOT, "media", "model", "tokenizer.json")

# 24 layers x 64 experts, top-8: fine-grained experts (d_ff = d_model / 2, as DeepSeek-style MoEs). d_model 64 keeps
# a 4k-token forward at seconds on 2 shared cores although the exported MoE computes all 64 experts densely (8x the
# sparse FLOPs) and attention runs over the full 4096 x 4096 scores; the graph is ~10 MB.
WIDE = Config(vocab_size=4096, n_layer=24, n_head=4, d_model=64, n_expert=64, top_k=8, d_ff=32, context=4096)
SEED = 20261123


def wide_model():
    torch.manual_seed(SEED)
    m = MoELM(WIDE)
    # Router weights a little larger than default init so routing is not near-uniform (closer to a trained router).
    with torch.no_grad():
        for b in m.blocks:
            b.moe.router.weight.mul_(4.0)
    return m.eval()


def embedded_model():
    """The embedded model in PyTorch with exactly the shipped weights, read back from media/model/model.onnx. Not
    tools/model/out/ckpt.pt: a checkpoint there may be newer (a fine-tune in progress) or older than the export, and
    the bare graph and PyTorch eager must run the weights the analysis runs."""
    return embedded_from_onnx()


def embedded_from_onnx():
    """MoELM with the initialisers of export.py's graph. Named ones (embedding, layer norms) map by name; the MatMul
    weights were constant-folded to anonymous `onnx::MatMul_<n>` tensors, numbered in trace order: per layer qkv^T,
    out^T, router^T, then (w1[e], w2[e]) for every expert, and last the tied head (emb^T, skipped)."""
    import onnx
    from onnx import numpy_helper
    d = os.path.join(ROOT, "media", "model")
    man = json.load(open(os.path.join(d, "moe.json")))
    g = onnx.load(os.path.join(d, man.get("model", "model.onnx"))).graph
    init = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in g.initializer}
    H, dh, L, E = man["kvCache"]["heads"], man["kvCache"]["headDim"], man["layers"], man["experts"]
    D = H * dh
    mats = sorted((n for n in init if n.startswith("onnx::MatMul_")), key=lambda n: int(n.rsplit("_", 1)[1]))
    F_ = init[mats[3]].shape[1]
    c = Config(vocab_size=man["vocabSize"], n_layer=L, n_head=H, d_model=D, n_expert=E, top_k=man["topK"], d_ff=F_, context=man["contextLength"])
    m = MoELM(c)
    sd = {k[2:]: v for k, v in init.items() if k.startswith("m.")}
    per = 3 + 2 * E
    for l in range(L):
        w = [init[n] for n in mats[l * per:(l + 1) * per]]
        assert w[0].shape == (D, 3 * D) and w[1].shape == (D, D) and w[2].shape == (D, E), f"layer {l}: unexpected initialiser order"
        sd[f"blocks.{l}.attn.qkv.weight"] = w[0].t()
        sd[f"blocks.{l}.attn.out.weight"] = w[1].t()
        sd[f"blocks.{l}.moe.router.weight"] = w[2].t()
        assert all(w[3 + 2 * e].shape == (D, F_) and w[4 + 2 * e].shape == (F_, D) for e in range(E))
        sd[f"blocks.{l}.moe.w1"] = torch.stack([w[3 + 2 * e] for e in range(E)])
        sd[f"blocks.{l}.moe.w2"] = torch.stack([w[4 + 2 * e] for e in range(E)])
    m.load_state_dict(sd)
    return m.eval()


def dense_moe(moe, x, bias):
    """model.MoE.forward without the per-expert loop, for export: every expert runs on every token as one batched
    MatMul over the stacked weights [E, D, F] / [E, F, D], and a [N, E] mask holding the gate weight of each chosen
    expert (0 elsewhere) combines them. Same routing and outputs as the sparse dispatch (up to float rounding), E/k
    times its FFN FLOPs, but a constant number of graph nodes: the unrolled per-expert subgraphs made onnxruntime's
    session creation grow much faster than the expert count (24 x 64 experts: not open after 5 minutes)."""
    logits = moe.router(x)                                               # [N, E] raw
    ids = torch.topk(logits + bias, moe.k, dim=-1).indices               # selection sees the bias
    gates = torch.gather(logits, 1, ids).softmax(-1)                     # weights do not
    mask = torch.zeros_like(logits).scatter(1, ids, gates)               # [N, E]
    h = F.gelu(torch.matmul(x.unsqueeze(0), moe.w1))                     # [E, N, F]
    y = torch.matmul(h, moe.w2)                                          # [E, N, D]
    return (y * mask.t().unsqueeze(-1)).sum(0), logits, ids, gates


def dense_block(blk, x, bias, past_k, past_v):
    """model.Block.forward with dense_moe."""
    a, k, v = blk.attn(blk.ln1(x), past_k, past_v)
    x = x + a
    B, T, D = x.shape
    m, logits, ids, gates = dense_moe(blk.moe, blk.ln2(x).reshape(B * T, D), bias)
    return x + m.view(B, T, D), logits.view(B, T, -1), ids.view(B, T, -1), gates.view(B, T, -1), k, v


class Bare(torch.nn.Module):
    """input_ids -> logits only: zero bias, empty past, no router outputs (the baseline for capture overhead)."""

    def __init__(self, model):
        super().__init__()
        self.m = model

    def forward(self, input_ids):
        c = self.m.c
        logits, *_ = self.m(input_ids, torch.zeros(c.n_layer, c.n_expert), self.m.empty_cache(1))
        return logits


def export_bare(model, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    ids = torch.randint(0, model.c.vocab_size, (1, 7))
    torch.onnx.export(Bare(model), (ids,), path, opset_version=17, input_names=["input_ids"], output_names=["logits"],
                      dynamic_axes={"input_ids": {1: "T"}, "logits": {1: "T"}}, do_constant_folding=True)
    print(f"wrote {path}: {os.path.getsize(path) / 1e6:.1f} MB")


# ---- layer-wise export. torch.onnx.export of the whole 24 x 64-expert model takes hours with torch 1.13 (the
# conversion grows faster than quadratically with the node count: 2 layers 11 s, 6 layers 220 s), so each block is
# exported alone (seconds) and the parts are joined with the onnx package into one graph with export.py's names.

class _Embed(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.emb = m.emb

    def forward(self, input_ids):
        return self.emb(input_ids)


class _Head(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.ln_f, self.emb = m.ln_f, m.emb

    def forward(self, x, input_ids=None):
        logits = self.ln_f(x) @ self.emb.weight.t()
        if input_ids is None:  # the bare graph: logits only
            return logits
        # token_logprobs as export.py's graph has it (log p of each token given the ones before it, 0 for the first)
        lp = torch.log_softmax(logits[:, :-1], -1).gather(-1, input_ids[:, 1:, None]).squeeze(-1)
        return logits, torch.cat([torch.zeros(1, 1), lp], 1)


class _Block(torch.nn.Module):
    def __init__(self, blk, l):
        super().__init__()
        self.blk, self.l = blk, l

    def forward(self, x, expert_bias, past_k, past_v):
        return dense_block(self.blk, x, expert_bias[self.l], past_k, past_v)


class _BareBlock(torch.nn.Module):
    def __init__(self, m, l):
        super().__init__()
        self.blk, self.c = m.blocks[l], m.c

    def forward(self, x):
        c = self.c
        dh = c.d_model // c.n_head
        empty = torch.zeros(1, c.n_head, 0, dh)
        return dense_block(self.blk, x, torch.zeros(c.n_expert), empty, empty)[0]


def _part(module, args, ins, outs, dyn, tmp, name):
    import onnx
    path = os.path.join(tmp, name + ".onnx")
    torch.onnx.export(module, args, path, opset_version=17, input_names=ins, output_names=outs, dynamic_axes=dyn,
                      do_constant_folding=True)
    return onnx.load(path)


def _stitch(parts, inputs, outputs, extra_nodes, path):
    """parts: (ModelProto, prefix, {local name: global name}). Internal names get the prefix; graph inputs and outputs
    are taken (renamed) from the parts' value infos or given as ValueInfoProtos."""
    import onnx
    from onnx import helper
    nodes, inits, vinfo = [], [], {}
    for m, prefix, io in parts:
        g = m.graph
        ren = lambda n: (io.get(n, prefix + n) if n else n)  # noqa: E731
        for t in g.initializer:
            t.name = ren(t.name)
            inits.append(t)
        for nd in g.node:
            ins, outs = [ren(x) for x in nd.input], [ren(x) for x in nd.output]
            del nd.input[:]
            del nd.output[:]
            nd.input.extend(ins)
            nd.output.extend(outs)
            nd.name = prefix + nd.name
            nodes.append(nd)
        for v in list(g.input) + list(g.output):
            if v.name in io:
                v2 = onnx.ValueInfoProto()
                v2.CopyFrom(v)
                v2.name = io[v.name]
                vinfo[v2.name] = v2
    nodes += extra_nodes
    gi = [vinfo[n] if isinstance(n, str) else n for n in inputs]
    go = [vinfo[n] if isinstance(n, str) else n for n in outputs]
    model = helper.make_model(helper.make_graph(nodes, "moe", gi, go, inits), opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)


def export_layerwise(model, path, bare=False):
    import tempfile
    from onnx import helper, TensorProto
    c = model.c
    L, dh = c.n_layer, c.d_model // c.n_head
    tmp = tempfile.mkdtemp()
    x = torch.randn(1, 7, c.d_model)
    t0 = time.time()
    parts = [(_part(_Embed(model), (torch.randint(0, c.vocab_size, (1, 7)),), ["input_ids"], ["x"], {"input_ids": {1: "T"}, "x": {1: "T"}}, tmp, "embed"), "embed/", {"input_ids": "input_ids", "x": "h0"})]
    for l in range(L):
        if bare:
            m = _part(_BareBlock(model, l), (x,), ["x"], ["y"], {"x": {1: "T"}, "y": {1: "T"}}, tmp, f"b{l}")
            parts.append((m, f"l{l}/", {"x": f"h{l}", "y": f"h{l + 1}"}))
        else:
            past = torch.randn(1, c.n_head, 3, dh)
            dyn = {"x": {1: "T"}, "y": {1: "T"}, "router": {1: "T"}, "ids": {1: "T"}, "gates": {1: "T"}, "pk": {2: "P"}, "pv": {2: "P"}, "k": {2: "S"}, "v": {2: "S"}}
            m = _part(_Block(model.blocks[l], l), (x, torch.zeros(L, c.n_expert), past, past), ["x", "expert_bias", "pk", "pv"],
                      ["y", "router", "ids", "gates", "k", "v"], dyn, tmp, f"b{l}")
            parts.append((m, f"l{l}/", {"x": f"h{l}", "y": f"h{l + 1}", "expert_bias": "expert_bias", "router": f"router.{l}", "ids": f"ids.{l}",
                                        "gates": f"gates.{l}", "pk": f"past_key.{l}", "pv": f"past_value.{l}", "k": f"present_key.{l}", "v": f"present_value.{l}"}))
        print(f"  block {l}: {time.time() - t0:.0f} s", flush=True)
    if bare:
        parts.append((_part(_Head(model), (x,), ["x"], ["logits"], {"x": {1: "T"}, "logits": {1: "T"}}, tmp, "head"), "head/", {"x": f"h{L}", "logits": "logits"}))
        _stitch(parts, ["input_ids"], ["logits"], [], path)
        return
    head = _part(_Head(model), (x, torch.randint(0, c.vocab_size, (1, 7))), ["x", "input_ids"], ["logits", "token_logprobs"],
                 {"x": {1: "T"}, "input_ids": {1: "T"}, "logits": {1: "T"}, "token_logprobs": {1: "T"}}, tmp, "head")
    parts.append((head, "head/", {"x": f"h{L}", "input_ids": "input_ids", "logits": "logits", "token_logprobs": "token_logprobs"}))
    cat = [helper.make_node("Concat", [f"{k}.{l}" for l in range(L)], [o], axis=0, name=f"concat_{o}")
           for k, o in (("router", "router_logits"), ("ids", "expert_ids"), ("gates", "expert_weights"))]
    outs = ["logits",
            helper.make_tensor_value_info("router_logits", TensorProto.FLOAT, [L, "T", c.n_expert]),
            helper.make_tensor_value_info("expert_ids", TensorProto.INT64, [L, "T", c.top_k]),
            helper.make_tensor_value_info("expert_weights", TensorProto.FLOAT, [L, "T", c.top_k]),
            "token_logprobs"]
    ins = ["input_ids", "expert_bias"]
    for l in range(L):
        ins += [f"past_key.{l}", f"past_value.{l}"]
        outs += [f"present_key.{l}", f"present_value.{l}"]
    _stitch(parts, ins, outs, cat, path)


def check_fixture(model, path):
    """Torch outputs for a few ids, for the benchmark to check the stitched graph against."""
    ids = [(i * 37 + 11) % model.c.vocab_size for i in range(24)]
    with torch.no_grad():
        logits, router, eids, gates, _ = model(torch.tensor([ids]))
    json.dump({"ids": ids, "logits_last": logits[0, -1].tolist(), "expert_ids": torch.cat(eids, 0).flatten().tolist()}, open(path, "w"))


def synthetic(out):
    d = os.path.join(out, "wide")
    os.makedirs(d, exist_ok=True)
    m = wide_model()
    torch.save(m.state_dict(), os.path.join(d, "weights.pt"))
    onnx_path = os.path.join(d, "model.onnx")
    t0 = time.time()
    with torch.no_grad():
        export_layerwise(m, onnx_path)
    check_fixture(m, os.path.join(d, "check.json"))
    shutil.copy(TOKENIZER, os.path.join(d, "tokenizer.json"))
    prov = {
        "name": f"bench-wide-{WIDE.n_layer}L-{WIDE.n_expert}e-top{WIDE.top_k}-random",
        "licence": "MIT; random weights (seed %d), for benchmarks only" % SEED,
        # moeExport tells the benchmark this graph has dense MoE layers (an older per-expert export is re-made).
        "recipe": {"script": "tools/model/export_bench.py --synthetic", "config": WIDE.to_dict(), "seed": SEED, "moeExport": "dense",
                   "tokenLogprobs": True},
        "sha256": hashlib.sha256(open(onnx_path, "rb").read()).hexdigest(),
    }
    if not os.path.exists(os.path.join(export.WORK, "corpus", "sources.json")):  # a fresh clone has no corpus
        import tempfile
        export.WORK = tempfile.mkdtemp()
        os.makedirs(os.path.join(export.WORK, "corpus"))
        json.dump({"domains": {}}, open(os.path.join(export.WORK, "corpus", "sources.json"), "w"))
    man = export.manifest(WIDE, "tokenizer.json", prov)
    man.pop("profileCorpus", None)  # no profile corpus shipped with the synthetic model
    man["$schema"] = "../../../schema/moe.schema.json"
    json.dump(man, open(os.path.join(d, "moe.json"), "w"), indent=1)
    n = sum(p.numel() for p in m.parameters())
    print(f"wrote {d}: model.onnx {os.path.getsize(onnx_path) / 1e6:.1f} MB, {n / 1e6:.1f}M parameters, export {time.time() - t0:.0f} s")


def bare(out):
    w = os.path.join(out, "wide", "weights.pt")
    if os.path.exists(w):
        m = MoELM(WIDE)
        m.load_state_dict(torch.load(w))
        os.makedirs(os.path.join(out, "wide-bare"), exist_ok=True)
        with torch.no_grad():
            export_layerwise(m.eval(), os.path.join(out, "wide-bare", "model.onnx"), bare=True)
    else:
        print(f"skipped the wide bare graph: {w} is missing (run --synthetic first)")
    e = embedded_model()
    if e is not None:
        # The same check as the wide model's: does the PyTorch model (from the checkpoint or read back from the ONNX)
        # compute what media/model/model.onnx computes? The benchmark compares and reports it. Taken before the export:
        # with torch 1.13 the model computed different logits after torch.onnx.export had traced it.
        os.makedirs(os.path.join(out, "embedded-bare"), exist_ok=True)
        check_fixture(e, os.path.join(out, "embedded-bare", "check.json"))
        with torch.no_grad():
            export_bare(e, os.path.join(out, "embedded-bare", "model.onnx"))


def torch_time(which, out, lengths, reps, ids_file):
    if which == "wide":
        m = MoELM(WIDE)
        m.load_state_dict(torch.load(os.path.join(out, "wide", "weights.pt")))
        m.eval()
    else:
        m = embedded_model()
    torch.set_num_threads(os.cpu_count() or 1)
    ids_all = json.load(open(ids_file)) if ids_file else torch.randint(0, 4096, (max(lengths),)).tolist()
    C = m.c.context
    weights = ("bench/out/wide/weights.pt (the same weights as the ONNX)" if which == "wide" else
               "read back from media/model/model.onnx")
    res = {"threads": torch.get_num_threads(), "torch": torch.__version__, "weights": weights, "ms": {}}
    with torch.no_grad():
        for T in lengths:
            ids = torch.tensor([ids_all[:T]])
            times = []
            for r in range(reps + 1):  # first run is warm-up
                t0 = time.perf_counter()
                for s in range(0, T, C):
                    m(ids[:, s:s + C])
                if r:
                    times.append((time.perf_counter() - t0) * 1000)
            res["ms"][str(T)] = statistics.median(times)
    print(json.dumps(res))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--synthetic", action="store_true")
    ap.add_argument("--bare", action="store_true")
    ap.add_argument("--torch-time", choices=["wide", "embedded"])
    ap.add_argument("--lengths", default="512,1024,2048,4096")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--ids", help="JSON file with the token ids to run (default: random ids)")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "out"))
    a = ap.parse_args()
    if a.synthetic:
        synthetic(a.out)
    if a.bare:
        bare(a.out)
    if a.torch_time:
        torch_time(a.torch_time, a.out, [int(x) for x in a.lengths.split(",")], a.reps, a.ids)
    if not (a.synthetic or a.bare or a.torch_time):
        ap.print_help()


if __name__ == "__main__":
    main()
