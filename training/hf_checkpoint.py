"""Read Hugging Face checkpoint folders (config.json + safetensors shards) of llama, qwen2 and gemma3."""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file

from .model import ModelConfig, Transformer

SUPPORTED = {"llama": "llama", "qwen2": "qwen2", "gemma3_text": "gemma3", "gemma3": "gemma3"}


def _rope_theta(hf: dict, layer_type: str | None = None) -> float | None:
    params = hf.get("rope_parameters") or {}
    if layer_type and isinstance(params.get(layer_type), dict):
        return params[layer_type].get("rope_theta")
    if "rope_theta" in params:
        return params["rope_theta"]
    return hf.get("rope_theta")


def config_from_hf(hf: dict) -> ModelConfig:
    """Map a transformers config.json to our ModelConfig; fails on what we do not implement."""
    if hf.get("model_type") == "gemma3" and "text_config" in hf:
        hf = hf["text_config"]
    kind = SUPPORTED.get(hf.get("model_type", ""))
    if kind is None:
        raise ValueError(f"config.json: model_type {hf.get('model_type')!r} is not one of {sorted(SUPPORTED)}")
    heads = hf["num_attention_heads"]
    common = dict(
        type=kind,
        vocab_size=hf["vocab_size"],
        hidden_size=hf["hidden_size"],
        num_hidden_layers=hf["num_hidden_layers"],
        num_attention_heads=heads,
        num_key_value_heads=hf.get("num_key_value_heads", heads),
        head_dim=hf.get("head_dim") or hf["hidden_size"] // heads,
        intermediate_size=hf["intermediate_size"],
        rms_norm_eps=hf.get("rms_norm_eps", 1e-6),
        max_position_embeddings=hf.get("max_position_embeddings", 2048),
        tie_word_embeddings=hf.get("tie_word_embeddings", kind == "gemma3"),
    )
    for key in ("rope_scaling",):
        scaling = hf.get(key)
        if scaling and scaling.get("rope_type", scaling.get("type")) not in (None, "default"):
            raise ValueError(f"config.json: {key} {scaling} is not supported")
    if kind == "gemma3":
        for lt in ("full_attention", "sliding_attention"):
            p = (hf.get("rope_parameters") or {}).get(lt)
            if isinstance(p, dict) and p.get("rope_type", "default") != "default":
                raise ValueError(f"config.json: rope_parameters.{lt} type {p.get('rope_type')} is not supported")
        return ModelConfig(
            **common,
            rope_theta=_rope_theta(hf, "full_attention") or 1_000_000.0,
            rope_local_theta=_rope_theta(hf, "sliding_attention") or hf.get("rope_local_base_freq", 10_000.0),
            hidden_act="gelu_tanh",
            layer_types=list(hf["layer_types"]),
            sliding_window=hf["sliding_window"],
            qk_norm=True,
            query_pre_attn_scalar=hf["query_pre_attn_scalar"],
            embedding_scale=float(hf["hidden_size"]) ** 0.5,
            norm_weight_offset=1.0,
            sandwich_norms=True,
            final_logit_softcapping=hf.get("final_logit_softcapping"),
            attention_bias=hf.get("attention_bias", False),
        )
    act = hf.get("hidden_act", "silu")
    if act != "silu":
        raise ValueError(f"config.json: hidden_act {act!r} is not supported for {kind}")
    return ModelConfig(
        **common,
        rope_theta=_rope_theta(hf) or 10_000.0,
        attention_bias=kind == "qwen2" or hf.get("attention_bias", False),
    )


def load_state_dict(folder: Path) -> dict[str, torch.Tensor]:
    state: dict[str, torch.Tensor] = {}
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise FileNotFoundError(f"{folder}: no .safetensors files")
    for f in files:
        state.update(load_file(f))
    # gemma3 multimodal checkpoints nest the text model; keep only the language model.
    renamed = {}
    for k, v in state.items():
        k = k.replace("model.language_model.", "model.").replace("language_model.model.", "model.")
        renamed[k] = v.float()
    return renamed


def load_checkpoint(folder: str | Path) -> Transformer:
    folder = Path(folder)
    config = config_from_hf(json.loads((folder / "config.json").read_text()))
    model = Transformer(config)
    state = load_state_dict(folder)
    if config.tie_word_embeddings:
        state.pop("lm_head.weight", None)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"{folder}: checkpoint does not match the architecture: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return model.eval()
