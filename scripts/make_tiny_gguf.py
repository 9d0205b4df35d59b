#!/usr/bin/env python3
"""Writes a tiny llama-architecture GGUF model with random weights, for protocol tests.

    make_tiny_gguf.py VOCAB_GGUF OUT_GGUF

The tokenizer (every `tokenizer.*` key) is copied from VOCAB_GGUF, a vocab-only model such as
llama.cpp's `models/ggml-vocab-llama-spm.gguf`; the weights are random (fixed seed), two
layers of width 64, so the file is a few MB and the server answers fast. Its chat template is
ChatML. What it generates is gibberish, but llama-server treats it as a real model: the HTTP
protocol, sampling, stop sequences, token limits and context errors are all the real thing.

Needs numpy, PyYAML and llama.cpp's `gguf-py` on PYTHONPATH.
"""

import sys

import numpy as np
from gguf import GGUFReader, GGUFValueType, GGUFWriter

N_EMBD = 64
N_LAYER = 2
N_HEAD = 4
N_FF = 128
N_CTX_TRAIN = 2048

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def field_value(field):
    """The Python value of a reader field, in the form `GGUFWriter.add_key_value` takes."""
    main = field.types[0]
    if main == GGUFValueType.ARRAY:
        return list(field.contents())
    return field.contents()


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: make_tiny_gguf.py VOCAB_GGUF OUT_GGUF")
    vocab_path, out_path = sys.argv[1], sys.argv[2]
    vocab = GGUFReader(vocab_path)
    n_vocab = len(vocab.fields["tokenizer.ggml.tokens"].contents())

    w = GGUFWriter(out_path, "llama")
    w.add_name("sync-openai tiny random llama")
    w.add_context_length(N_CTX_TRAIN)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(N_LAYER)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(N_EMBD // N_HEAD)
    w.add_vocab_size(n_vocab)
    w.add_file_type(1)  # mostly F16

    for key, field in vocab.fields.items():
        if key.startswith("tokenizer.") and key != "tokenizer.chat_template":
            sub = field.types[-1] if field.types[0] == GGUFValueType.ARRAY else None
            w.add_key_value(key, field_value(field), field.types[0], sub)
    w.add_chat_template(CHATML)

    rng = np.random.default_rng(20240607)

    def weight(rows, cols, dtype=np.float16):
        # numpy shape (rows, cols) is ggml's [cols, rows]: cols is the input width
        return (rng.standard_normal((rows, cols)) / np.sqrt(cols)).astype(dtype)

    ones = np.ones(N_EMBD, dtype=np.float32)
    # No output.weight: llama.cpp ties the output projection to token_embd.
    w.add_tensor("token_embd.weight", weight(n_vocab, N_EMBD) * np.float16(8.0))
    w.add_tensor("output_norm.weight", ones)
    for i in range(N_LAYER):
        w.add_tensor(f"blk.{i}.attn_norm.weight", ones)
        w.add_tensor(f"blk.{i}.attn_q.weight", weight(N_EMBD, N_EMBD))
        w.add_tensor(f"blk.{i}.attn_k.weight", weight(N_EMBD, N_EMBD))
        w.add_tensor(f"blk.{i}.attn_v.weight", weight(N_EMBD, N_EMBD))
        w.add_tensor(f"blk.{i}.attn_output.weight", weight(N_EMBD, N_EMBD))
        w.add_tensor(f"blk.{i}.ffn_norm.weight", ones)
        w.add_tensor(f"blk.{i}.ffn_gate.weight", weight(N_FF, N_EMBD))
        w.add_tensor(f"blk.{i}.ffn_up.weight", weight(N_FF, N_EMBD))
        w.add_tensor(f"blk.{i}.ffn_down.weight", weight(N_EMBD, N_FF))

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"wrote {out_path}: {n_vocab} tokens, {N_LAYER} layers of width {N_EMBD}")


if __name__ == "__main__":
    main()
