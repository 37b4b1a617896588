"""A small decoder-only transformer with a sparse Mixture-of-Experts feed-forward in every layer.

Reads like nanoGPT: one file, no framework. What is particular to MoE Lens:
- every router returns its raw logits; an `expert_bias` [L, E] is added to them *for selection only*
  (top-k over logits + bias), so bias 0 is the unsteered model bit for bit, a disabled expert (bias -1e9) is never
  picked and a forced one (+1e9) always is;
- gate weights are the softmax of the *raw* logits over the k selected experts (top-k then renormalise, as in
  Mixtral). The bias therefore changes which experts run, never how much a chosen expert is trusted — the same
  convention as DeepSeek-V3's selection-only correction bias — so a forced expert gets a real weight, not 1.0;
- attention takes and returns a KV cache, with RoPE positions offset by the cache length, so continuing a
  sequence costs only the new tokens.
"""
from dataclasses import dataclass, asdict
import math
import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    vocab_size: int = 4096
    n_layer: int = 4
    n_head: int = 5
    d_model: int = 160
    n_expert: int = 16
    top_k: int = 2
    d_ff: int = 256
    context: int = 512
    rope_base: float = 10000.0

    def to_dict(self):
        return asdict(self)


def rope(x, pos0, base):
    """Rotary embedding on [B, H, T, Dh], positions pos0 .. pos0+T-1 (half-split layout), frequencies base^(-2i/Dh)."""
    T, dh = x.shape[2], x.shape[3]
    inv = 1.0 / (base ** (torch.arange(0, dh, 2, dtype=torch.float32) / dh))
    pos = torch.arange(T, dtype=torch.float32) + pos0
    ang = pos[:, None] * inv[None, :]
    cos, sin = ang.cos(), ang.sin()
    x1, x2 = x[..., : dh // 2], x[..., dh // 2:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.h, self.dh = c.n_head, c.d_model // c.n_head
        self.rope_base = c.rope_base
        self.qkv = nn.Linear(c.d_model, 3 * c.d_model, bias=False)
        self.out = nn.Linear(c.d_model, c.d_model, bias=False)

    def forward(self, x, past_k, past_v):
        B, T, D = x.shape
        q, k, v = self.qkv(x).split(D, dim=2)
        q, k, v = (t.view(B, T, self.h, self.dh).transpose(1, 2) for t in (q, k, v))
        pos0 = past_k.shape[2]
        q, k = rope(q, pos0, self.rope_base), rope(k, pos0, self.rope_base)
        k = torch.cat([past_k, k], dim=2)
        v = torch.cat([past_v, v], dim=2)
        S = k.shape[2]
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(self.dh))
        allowed = torch.arange(S)[None, :] <= (torch.arange(T)[:, None] + pos0)
        att = att.masked_fill(~allowed, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, D)
        return self.out(y), k, v


class MoE(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.k, self.E = c.top_k, c.n_expert
        self.router = nn.Linear(c.d_model, c.n_expert, bias=False)
        self.w1 = nn.Parameter(torch.randn(c.n_expert, c.d_model, c.d_ff) * (1 / math.sqrt(c.d_model)))
        self.w2 = nn.Parameter(torch.randn(c.n_expert, c.d_ff, c.d_model) * (1 / math.sqrt(c.d_ff)) / math.sqrt(2 * c.n_layer))

    def forward(self, x, bias):
        """x [N, D], bias [E] -> y [N, D], raw logits [N, E], expert ids [N, k], gate weights [N, k]."""
        logits = self.router(x)
        ids = torch.topk(logits + bias, self.k, dim=-1).indices
        gates = torch.gather(logits, 1, ids).softmax(-1)
        y = torch.zeros_like(x)
        for e in range(self.E):
            # Sparse dispatch: only the tokens routed to expert e run through it.
            hit = ids == e                                   # [N, k]
            rows = hit.any(-1).nonzero().squeeze(-1)          # tokens that chose e
            g = (gates * hit).sum(-1).index_select(0, rows)   # their gate weight for e
            # tanh GELU: the com.microsoft.MoE op's "gelu" (onnxruntime's CPU kernel), so the shipped graph is this function
            h = F.gelu(x.index_select(0, rows) @ self.w1[e], approximate="tanh") @ self.w2[e]
            y = y.index_add(0, rows, h * g[:, None])
        return y, logits, ids, gates


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(c.d_model), nn.LayerNorm(c.d_model)
        self.attn, self.moe = Attention(c), MoE(c)

    def forward(self, x, bias, past_k, past_v):
        a, k, v = self.attn(self.ln1(x), past_k, past_v)
        x = x + a
        B, T, D = x.shape
        m, logits, ids, gates = self.moe(self.ln2(x).reshape(B * T, D), bias)
        return x + m.view(B, T, D), logits.view(B, T, -1), ids.view(B, T, -1), gates.view(B, T, -1), k, v


class MoELM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.emb = nn.Embedding(c.vocab_size, c.d_model)
        nn.init.normal_(self.emb.weight, std=0.02)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.n_layer))
        self.ln_f = nn.LayerNorm(c.d_model)

    def empty_cache(self, B=1):
        dh = self.c.d_model // self.c.n_head
        return [torch.zeros(B, self.c.n_head, 0, dh) for _ in range(2 * self.c.n_layer)]

    def forward(self, idx, bias=None, past=None):
        """idx [B, T] -> logits [B, T, V], router logits/ids/gates per layer, present KV (list of 2L tensors)."""
        if bias is None:
            bias = torch.zeros(self.c.n_layer, self.c.n_expert)
        if past is None:
            past = self.empty_cache(idx.shape[0])
        x = self.emb(idx)
        router, ids, gates, present = [], [], [], []
        for l, blk in enumerate(self.blocks):
            x, lg, i, g, k, v = blk(x, bias[l], past[2 * l], past[2 * l + 1])
            router.append(lg); ids.append(i); gates.append(g); present += [k, v]
        logits = self.ln_f(x) @ self.emb.weight.t()  # tied embeddings
        return logits, router, ids, gates, present


def load_balance_loss(router_logits, ids, n_expert):
    """Switch-style LBL = N_E * sum_i f_i * p_i (= 1 at perfect balance), over the whole batch (global, not
    per micro-batch: lets experts specialise by domain, see 'Demons in the Detail')."""
    p = router_logits.reshape(-1, n_expert).softmax(-1).mean(0)
    f = F.one_hot(ids.reshape(-1), n_expert).float().mean(0)
    return n_expert * (f * p).sum()
