"""GGUF files for bench/llamacpp.ts, made by llama.cpp's own code (the release that node-llama-cpp ships).

  python llamacpp_gguf.py convert  LLAMA_SRC HF OUT.gguf      HF checkpoint -> GGUF F16 (convert_hf_to_gguf.py)
  python llamacpp_gguf.py quantize LIBLLAMA IN.gguf OUT.gguf TYPE THREADS   F16 GGUF -> Q8_0 / Q4_0

convert runs llama.cpp's convert_hf_to_gguf.py (from LLAMA_SRC, extracted from node-llama-cpp's llama.cpp bundle)
with one override: the vocabulary. The bench checkpoint carries Llama 2's tokenizer (SentencePiece-style BPE in
tokenizer.json, 32000 pieces) under OLMoE's 50304-row embedding; OlmoeModel asks for a GPT-2 style BPE and stops at
the unknown pre-tokenizer hash. The override writes that tokenizer as llama.cpp's SentencePiece ("llama") vocabulary
(LlamaHfVocab, as LlamaModel does), padded with unused [PADn] pieces to the embedding's rows as the converter pads
its other vocabularies; llama.cpp requires n_vocab to equal the rows. The weights go through the converter untouched.

quantize calls llama_model_quantize, the function behind llama.cpp's llama-quantize tool, in node-llama-cpp's own
libllama (ctypes: node-llama-cpp ships the library but not the tool); the struct below mirrors that release's
include/llama.h.
"""
import ctypes
import sys
from pathlib import Path


def convert(src: str, hf: str, out: str) -> None:
    sys.path.insert(0, src)
    sys.path.insert(1, str(Path(src) / 'gguf-py'))
    import gguf  # noqa: E402  (llama.cpp's own gguf-py, as the converter uses it)
    import convert_hf_to_gguf  # noqa: E402
    from conversion.olmo import OlmoeModel  # noqa: E402

    def set_vocab(self) -> None:
        vocab = gguf.LlamaHfVocab(self.dir_model)
        tokens, scores, toktypes = [], [], []
        for text, score, toktype in vocab.all_tokens():
            tokens.append(text)
            scores.append(score)
            toktypes.append(toktype)
        rows = self.hparams['vocab_size']
        if len(tokens) > rows:
            raise ValueError(f'tokenizer has {len(tokens)} pieces, the embedding {rows} rows')
        for i in range(1, rows - len(tokens) + 1):
            tokens.append(f'[PAD{i}]'.encode())
            scores.append(-1000.0)
            toktypes.append(gguf.TokenType.UNUSED)
        self.gguf_writer.add_tokenizer_model('llama')
        self.gguf_writer.add_tokenizer_pre('default')
        self.gguf_writer.add_token_list(tokens)
        self.gguf_writer.add_token_scores(scores)
        self.gguf_writer.add_token_types(toktypes)
        gguf.SpecialVocab(self.dir_model, n_vocab=len(tokens)).add_to_gguf(self.gguf_writer)

    OlmoeModel.set_vocab = set_vocab
    sys.argv = ['convert_hf_to_gguf.py', hf, '--outtype', 'f16', '--outfile', out]
    convert_hf_to_gguf.main()


class QuantizeParams(ctypes.Structure):
    _fields_ = [
        ('nthread', ctypes.c_int32),
        ('ftype', ctypes.c_int),
        ('output_tensor_type', ctypes.c_int),
        ('token_embedding_type', ctypes.c_int),
        ('allow_requantize', ctypes.c_bool),
        ('quantize_output_tensor', ctypes.c_bool),
        ('only_copy', ctypes.c_bool),
        ('pure', ctypes.c_bool),
        ('keep_split', ctypes.c_bool),
        ('dry_run', ctypes.c_bool),
        ('imatrix', ctypes.c_void_p),
        ('kv_overrides', ctypes.c_void_p),
        ('tt_overrides', ctypes.c_void_p),
        ('prune_layers', ctypes.c_void_p),
        ('max_buf_size', ctypes.c_size_t),
    ]


# enum llama_ftype in include/llama.h
FTYPES = {'Q4_0': 2, 'Q8_0': 7}


def quantize(lib: str, inp: str, out: str, kind: str, threads: int) -> None:
    llama = ctypes.CDLL(lib)
    llama.llama_model_quantize_default_params.restype = QuantizeParams
    llama.llama_model_quantize.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(QuantizeParams)]
    llama.llama_model_quantize.restype = ctypes.c_uint32
    llama.llama_backend_init()
    params = llama.llama_model_quantize_default_params()
    params.ftype = FTYPES[kind]
    params.nthread = threads
    rc = llama.llama_model_quantize(inp.encode(), out.encode(), ctypes.byref(params))
    if rc != 0:
        raise SystemExit(f'llama_model_quantize {kind} failed ({rc})')


if __name__ == '__main__':
    if len(sys.argv) == 5 and sys.argv[1] == 'convert':
        convert(*sys.argv[2:5])
    elif len(sys.argv) == 7 and sys.argv[1] == 'quantize':
        quantize(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
    else:
        raise SystemExit(__doc__)
