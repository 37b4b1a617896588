"""A small byte-level BPE trainer that writes a Hugging Face tokenizer.json.

Pre-tokenisation is GPT-2's (the ByteLevel pre-tokenizer with use_regex=true), so @huggingface/tokenizers in the
extension splits text exactly as we do here. Merges are learnt on word counts with incremental pair-count
updates, so training on tens of megabytes takes about a minute.
"""
import collections, heapq, json
import regex

# The GPT-2 split pattern as the JavaScript tokenizer runs it. `\s` is spelled out as JavaScript's whitespace class,
# because Python's \s also matches \x1c-\x1f and \x85, which JavaScript's does not: ids must agree byte for byte.
JS_SPACE = r"\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
PATTERN = regex.compile(
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^" + JS_SPACE + r"\p{L}\p{N}]+|[" + JS_SPACE + r"]+(?![^" + JS_SPACE + r"])|[" + JS_SPACE + r"]+")
EOT = "<|endoftext|>"


def bytes_to_unicode():
    """GPT-2's reversible map from bytes to printable characters (the ByteLevel alphabet)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


B2U = bytes_to_unicode()


def pretokenize(text):
    return PATTERN.findall(text)


def train(texts, vocab_size):
    """Learn vocab_size - 257 merges (256 byte symbols and one special token come first/last)."""
    words = collections.Counter()
    for t in texts:
        for piece in t.split(EOT):
            words.update(pretokenize(piece))
    seqs = [[B2U[b] for b in w.encode("utf-8")] for w in words]
    freqs = list(words.values())
    pairs = collections.Counter()
    where = collections.defaultdict(set)  # pair -> indices of words that contain it
    for i, s in enumerate(seqs):
        for a, b in zip(s, s[1:]):
            pairs[(a, b)] += freqs[i]
            where[(a, b)].add(i)
    # A max-heap with lazy deletion: stale entries (count changed since pushed) are skipped when popped.
    heap = [(-c, p) for p, c in pairs.items()]
    heapq.heapify(heap)
    merges = []
    n_merges = vocab_size - 256 - 1
    while len(merges) < n_merges and heap:
        neg, best = heapq.heappop(heap)
        if pairs.get(best, 0) != -neg:
            continue
        if -neg < 2:
            break
        merges.append(best)
        a, b = best
        joined = a + b
        touched = set()
        for i in list(where[best]):
            s = seqs[i]
            f = freqs[i]
            for x, y in zip(s, s[1:]):  # remove this word's old pairs
                pairs[(x, y)] -= f
                if pairs[(x, y)] <= 0:
                    del pairs[(x, y)]
            out, j = [], 0
            while j < len(s):
                if j + 1 < len(s) and s[j] == a and s[j + 1] == b:
                    out.append(joined)
                    j += 2
                else:
                    out.append(s[j])
                    j += 1
            seqs[i] = out
            for x, y in zip(out, out[1:]):
                pairs[(x, y)] += f
                where[(x, y)].add(i)
            touched.update(zip(s, s[1:]))
            touched.update(zip(out, out[1:]))
        for p in touched:
            if p in pairs and p != best:
                heapq.heappush(heap, (-pairs[p], p))
        pairs.pop(best, None)
        del where[best]
    return merges


class Tokenizer:
    """Python twin of the JS tokenizer (same splits, same merge order): used for training data and fixtures."""

    def __init__(self, merges):
        self.merges = merges
        self.rank = {m: r for r, m in enumerate(merges)}
        self.vocab = {}
        for c in [B2U[b] for b in range(256)]:
            self.vocab.setdefault(c, len(self.vocab))
        for a, b in merges:
            self.vocab.setdefault(a + b, len(self.vocab))
        self.eot_id = len(self.vocab)
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.cache = {}
        self.U2B = {u: b for b, u in B2U.items()}

    def encode_word(self, w):
        ids = self.cache.get(w)
        if ids is not None:
            return ids
        s = [B2U[b] for b in w.encode("utf-8")]
        while len(s) > 1:
            cand = min(((self.rank.get((x, y), 1 << 30), k) for k, (x, y) in enumerate(zip(s, s[1:]))))
            if cand[0] == 1 << 30:
                break
            k = cand[1]
            s = s[:k] + [s[k] + s[k + 1]] + s[k + 2:]
        ids = [self.vocab[t] for t in s]
        self.cache[w] = ids
        return ids

    def encode(self, text):
        out = []
        pieces = text.split(EOT)
        for n, piece in enumerate(pieces):
            if n:
                out.append(self.eot_id)
            for w in pretokenize(piece):
                out.extend(self.encode_word(w))
        return out

    def token_bytes(self, i):
        return b"" if i == self.eot_id else bytes(self.U2B[c] for c in self.id_to_token[i])

    def decode(self, ids):
        return b"".join(self.token_bytes(i) for i in ids).decode("utf-8", errors="replace")

    def to_hf_json(self):
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [{"id": self.eot_id, "content": EOT, "single_word": False, "lstrip": False, "rstrip": False,
                              "normalized": False, "special": True}],
            "normalizer": None,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": True},
            "post_processor": None,
            "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                      "vocab": self.vocab, "merges": [[a, b] for a, b in self.merges]},
        }

    @classmethod
    def from_hf_json(cls, path):
        cfg = json.load(open(path, encoding="utf-8"))
        return cls([tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in cfg["model"]["merges"]])
