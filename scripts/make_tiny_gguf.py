#!/usr/bin/env python3
"""Writes a tiny llama-architecture GGUF model with random weights, for protocol tests.

    make_tiny_gguf.py VOCAB_GGUF OUT_GGUF

The tokenizer (every `tokenizer.*` key) is copied from VOCAB_GGUF, a vocab-only model such as
llama.cpp's `models/ggml-vocab-llama-spm.gguf`, with ChatML's `<|im_start|>` and `<|im_end|>`
added as control tokens; the weights are random (fixed seed), two layers of width 64, so the
file is about 9 MB and the server answers fast. Its chat template is ChatML. What it generates
is gibberish, but llama-server treats it as a real model: the HTTP protocol, sampling, stop
sequences, token limits, grammars, tool-call parsing and context errors are the real thing.

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

# ChatML's markers added to the vocabulary as control tokens, as chat models have them:
# llama.cpp feeds the generation prompt "<|im_start|>assistant\n" to a response-format or
# tool-call grammar token by token, so it must tokenize to exactly that text.
TOKEN_TYPE_CONTROL = 3
ADDED_TOKENS = [
    ("<|im_start|>", TOKEN_TYPE_CONTROL),  # id 32000
    ("<|im_end|>", TOKEN_TYPE_CONTROL),  # id 32001
]

# ChatML with Hermes-style tool calls, after Qwen2.5's template (llama.cpp derives its tool-call
# parser and grammar from how the template renders tools and calls), shortened for a small
# context.
CHATML = """\
{%- if tools %}
{{- '<|im_start|>system\n' }}
{%- if messages[0]['role'] == 'system' %}{{- messages[0]['content'] + '\n\n' }}{%- endif %}
{{- 'Tools:\n<tools>' }}
{%- for tool in tools %}{{- '\n' }}{{- tool | tojson }}{%- endfor %}
{{- '\n</tools>\nCall one as:\n<tool_call>\n{"name": <name>, "arguments": <object>}\n</tool_call><|im_end|>\n' }}
{%- elif messages[0]['role'] == 'system' %}
{{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
{%- endif %}
{%- for message in messages %}
{%- if (message.role == 'user') or (message.role == 'system' and not loop.first) or (message.role == 'assistant' and not message.tool_calls) %}
{{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>\n' }}
{%- elif message.role == 'assistant' %}
{{- '<|im_start|>' + message.role }}
{%- if message.content %}{{- '\n' + message.content }}{%- endif %}
{%- for tool_call in message.tool_calls %}
{%- if tool_call.function is defined %}{%- set tool_call = tool_call.function %}{%- endif %}
{{- '\n<tool_call>\n{"name": "' + tool_call.name + '", "arguments": ' }}{{- tool_call.arguments | tojson }}{{- '}\n</tool_call>' }}
{%- endfor %}
{{- '<|im_end|>\n' }}
{%- elif message.role == 'tool' %}
{%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != 'tool') %}{{- '<|im_start|>user' }}{%- endif %}
{{- '\n<tool_response>\n' + message.content + '\n</tool_response>' }}
{%- if loop.last or (messages[loop.index0 + 1].role != 'tool') %}{{- '<|im_end|>\n' }}{%- endif %}
{%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- endif %}"""


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
    tokens = list(vocab.fields["tokenizer.ggml.tokens"].contents())
    n_vocab = len(tokens) + len(ADDED_TOKENS)

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

    appended = {
        "tokenizer.ggml.tokens": [text for text, _ in ADDED_TOKENS],
        "tokenizer.ggml.scores": [0.0] * len(ADDED_TOKENS),
        "tokenizer.ggml.token_type": [kind for _, kind in ADDED_TOKENS],
    }
    for key, field in vocab.fields.items():
        if key.startswith("tokenizer.") and key != "tokenizer.chat_template":
            sub = field.types[-1] if field.types[0] == GGUFValueType.ARRAY else None
            value = field_value(field)
            if key in appended:
                value = value + appended[key]
            w.add_key_value(key, value, field.types[0], sub)
    # No space before the text that follows a control token: the generation prompt
    # "<|im_start|>assistant\n" must tokenize to exactly that text.
    w.add_add_space_prefix(False)
    w.add_chat_template(CHATML)

    rng = np.random.default_rng(20240607)

    def weight(rows, cols, dtype=np.float16):
        # numpy shape (rows, cols) is ggml's [cols, rows]: cols is the input width
        return (rng.standard_normal((rows, cols)) / np.sqrt(cols)).astype(dtype)

    ones = np.ones(N_EMBD, dtype=np.float32)
    w.add_tensor("token_embd.weight", weight(n_vocab, N_EMBD))
    w.add_tensor("output_norm.weight", ones)
    # Its own output projection: tied to token_embd, the model would repeat the last
    # prompt token forever.
    w.add_tensor("output.weight", weight(n_vocab, N_EMBD) * np.float16(4.0))
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
