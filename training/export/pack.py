"""Write a model pack (docs/pack-format.md): manifest, weights.safetensors, model.onnx, tokenizer files."""
from __future__ import annotations

import hashlib
import json
import struct
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto
from safetensors.numpy import save_file

from ..model import LoraSpec, ModelConfig, Transformer
from .onnx_graph import ExternalTensor, build_decoder
from .quant import QuantScheme, dequantize_state, quantize_state

PACK_FORMAT = "parametric-skills-pack"
PACK_FORMAT_VERSION = 1
# Bump when export_pack writes different files for the same model, so that cached packs are rebuilt.
EXPORTER_VERSION = 1
WEIGHTS_FILE = "weights.safetensors"
MODEL_FILE = "model.onnx"
ONNX_DTYPES = {"F32": TensorProto.FLOAT, "U8": TensorProto.UINT8}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.capitalize() for w in rest)


def camel_dict(d: dict) -> dict:
    return {camel(k): v for k, v in d.items()}


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_weights(state: dict[str, np.ndarray], path: Path, metadata: dict[str, str]) -> dict[str, ExternalTensor]:
    """Write safetensors and return each tensor's absolute byte range, for ONNX external data."""
    save_file({k: np.ascontiguousarray(v) for k, v in state.items()}, str(path), metadata=metadata)
    with path.open("rb") as f:
        header_len = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(header_len))
    base = 8 + header_len
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        assert info["dtype"] in ONNX_DTYPES, f"{name}: {info['dtype']} weights cannot be referenced by the graph"
        out[name] = ExternalTensor(name, info["shape"], base + begin, end - begin, ONNX_DTYPES[info["dtype"]])
    return out


def command_line() -> str:
    """The command as typed from the repository root: `python -m package.module args` (no machine paths)."""
    main = sys.modules.get("__main__")
    module = getattr(getattr(main, "__spec__", None), "name", None)
    return " ".join(["python", *(["-m", module] if module else [Path(sys.argv[0]).name]), *sys.argv[1:]])


def git_commit() -> str:
    """The repository's commit, whatever the working directory."""
    try:
        root = Path(__file__).resolve().parents[2]
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


@torch.no_grad()
def input_importance(model: Transformer, calibration: list[list[int]]) -> dict[str, np.ndarray]:
    """Mean square of every projection's input channels over the calibration sequences, by weight name."""
    sums: dict[str, torch.Tensor] = {}
    hooks = []
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear):
            def accumulate(_module, args, _out, key=f"{name}.weight"):
                x = args[0].reshape(-1, args[0].shape[-1]).double()
                sums[key] = sums.get(key, 0) + x.square().sum(0)
            hooks.append(module.register_forward_hook(accumulate))
    try:
        for ids in calibration:
            model(torch.tensor([ids]))
    finally:
        for h in hooks:
            h.remove()
    tokens = sum(len(ids) for ids in calibration)
    return {k: (v / tokens).float().numpy() for k, v in sums.items()}


def export_pack(
    model: Transformer,
    tokenizer_dir: Path,
    out: Path,
    pack_id: str,
    name: str,
    lora: LoraSpec,
    encoder_layers: list[int],
    license_info: dict,
    provenance: dict,
    extra_files: list[Path] = (),
    quant: QuantScheme | None = None,
    calibration: list[list[int]] = (),
) -> dict:
    """Write every file of a pack into `out` and return the manifest. `quant` block-quantizes the weights,
    weighing each projection's error by its input activations on the `calibration` token sequences."""
    if not isinstance(license_info.get("name"), str) or not license_info["name"]:
        raise ValueError(f"license_info needs a non-empty 'name' (the app shows it), got {license_info!r}")
    out.mkdir(parents=True, exist_ok=True)
    config: ModelConfig = model.config
    state = {k: v.detach().float().numpy() for k, v in model.state_dict().items()}
    metadata = {"format": PACK_FORMAT, "pack": pack_id}
    if quant is not None:
        state = quantize_state(state, quant, input_importance(model, calibration) if calibration else None)
        metadata["weights"] = json.dumps(quant.to_manifest())
    weights = write_weights(state, out / WEIGHTS_FILE, metadata)
    graph = build_decoder(config, lora, weights, WEIGHTS_FILE, encoder_layers, quant)
    onnx.save_model(graph, str(out / MODEL_FILE))
    files = [(MODEL_FILE, "model"), (WEIGHTS_FILE, "weights")]
    for fname, role in (("tokenizer.json", "tokenizer"), ("tokenizer_config.json", "tokenizer_config")):
        (out / fname).write_bytes((tokenizer_dir / fname).read_bytes())
        files.append((fname, role))
    for f in extra_files:
        (out / f.name).write_bytes(f.read_bytes())
        files.append((f.name, f.stem))
    tok_config = json.loads((tokenizer_dir / "tokenizer_config.json").read_text())
    tok = json.loads((tokenizer_dir / "tokenizer.json").read_text())
    vocab_ids = {t["content"]: t["id"] for t in tok.get("added_tokens", [])}
    eos = tok_config.get("eos_token")
    eos_names = [eos] if isinstance(eos, str) else list(eos or [])
    eos_names += [t for t in tok_config.get("extra_eos_tokens", []) if t not in eos_names]
    eos_ids = [vocab_ids[t] for t in eos_names if t in vocab_ids]
    # A checkpoint's generation_config.json may list more stop tokens (Gemma's <end_of_turn>).
    gen_path = tokenizer_dir / "generation_config.json"
    gen_eos = json.loads(gen_path.read_text()).get("eos_token_id") if gen_path.is_file() else None
    eos_ids += [t for t in ([gen_eos] if isinstance(gen_eos, int) else gen_eos or []) if t not in eos_ids]
    manifest = {
        "format": PACK_FORMAT,
        "formatVersion": PACK_FORMAT_VERSION,
        "id": pack_id,
        "name": name,
        "architecture": camel_dict(asdict(config)),
        "lora": camel_dict(asdict(lora)),
        "encoder": {"layers": encoder_layers},
        "generation": {"eosTokenIds": eos_ids, "contextLength": config.max_position_embeddings},
        "weights": {"dtype": "float32"} if quant is None else {"dtype": quant.name, "quantization": quant.to_manifest()},
        "files": [{"name": f, "role": role, "bytes": (out / f).stat().st_size, "sha256": sha256_file(out / f)} for f, role in files],
        "license": license_info,
        "provenance": {**provenance, "exporterVersion": EXPORTER_VERSION, "commit": git_commit(), "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                       "command": command_line()},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def model_config_of(manifest: dict) -> ModelConfig:
    """The ModelConfig a manifest's camelCase `architecture` describes."""
    arch = manifest["architecture"]
    return ModelConfig(**{f: arch[camel(f)] for f in ModelConfig.__dataclass_fields__ if camel(f) in arch})


def load_pack_model(pack_dir: Path) -> tuple[Transformer, dict]:
    """Rebuild the PyTorch model from a pack (the reference the tests compare engines against);
    quantized weights come back dequantized, exactly as the graph computes with them."""
    from safetensors.numpy import load_file

    manifest = json.loads((pack_dir / "manifest.json").read_text())
    config = model_config_of(manifest)
    model = Transformer(config)
    state = load_file(pack_dir / WEIGHTS_FILE)
    quantization = manifest["weights"].get("quantization")
    if quantization:
        state = dequantize_state(state, quantization["blockSize"])
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    return model.eval(), manifest


def lora_spec_of(manifest: dict) -> LoraSpec:
    spec = manifest["lora"]
    return LoraSpec(rank=spec["rank"], alpha=spec["alpha"], target_modules=list(spec["targetModules"]), slots=spec["slots"])


def random_lora(config: ModelConfig, spec: LoraSpec, seed: int, std: float = 0.05) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    out = {}
    for m in spec.target_modules:
        fan_in, fan_out = config.module_shape(m)
        a = torch.randn(config.num_hidden_layers, fan_in, spec.total_rank, generator=g) * std
        b = torch.randn(config.num_hidden_layers, spec.total_rank, fan_out, generator=g) * std
        out[m] = (a, b)
    return out
