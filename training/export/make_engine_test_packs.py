"""Small packs that exercise every path of the browser engines, with onnxruntime-web as their reference.

    python -m training.export.make_engine_test_packs

writes into public/models/:
  tiny-random-q8   the tiny test pack's weights in 8-bit symmetric blocks
  tiny-random-q4   ... in 4-bit blocks with zero points
  tiny-gemma3-q8   a random Gemma 3 checkpoint that transformers creates and saves (sliding-window and global
                   layers, QK-norm, sandwich norms, GELU-gated MLP, scaled embeddings, (1 + w) norms)
  tiny-qwen2-q4    a random Qwen2 checkpoint (q/k/v biases after 4-bit MatMulNBits)
All use the tiny pack's tokenizer (vocabulary 512); quantized exactly as build_gemma_pack quantizes Gemma.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch
import transformers

from ..hf_checkpoint import load_checkpoint
from .pack import export_pack, load_pack_model, lora_spec_of
from .quant import SCHEMES

SHAPE = dict(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=3, num_attention_heads=4,
             num_key_value_heads=2, max_position_embeddings=512)


def random_checkpoint(kind: str, folder: Path) -> None:
    """A checkpoint in Hugging Face's own layout, random norms and biases included so no offset can hide."""
    torch.manual_seed(0)
    if kind == "gemma3":
        cfg = transformers.Gemma3TextConfig(**SHAPE, head_dim=32, sliding_window=4, query_pre_attn_scalar=24,
                                            layer_types=["sliding_attention", "full_attention", "sliding_attention"])
        model = transformers.Gemma3ForCausalLM(cfg)
    else:
        model = transformers.Qwen2ForCausalLM(transformers.Qwen2Config(**SHAPE, tie_word_embeddings=True))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name or name.endswith("bias"):
                p.normal_(0, 0.5)
    model.save_pretrained(folder)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, default=Path("public/models/tiny-random"))
    ap.add_argument("--out-dir", type=Path, default=Path("public/models"))
    args = ap.parse_args()
    tiny, manifest = load_pack_model(args.source)
    lora = lora_spec_of(manifest)
    # Calibration text for the 4-bit blocks' range search: fixed random token sequences.
    g = torch.Generator().manual_seed(0)
    calibration = [torch.randint(0, tiny.config.vocab_size, (64,), generator=g).tolist() for _ in range(4)]
    packs = [(f"{manifest['id']}-q8", tiny, "q8", manifest["encoder"]["layers"]), (f"{manifest['id']}-q4", tiny, "q4", manifest["encoder"]["layers"])]
    with tempfile.TemporaryDirectory() as tmp:
        for kind, scheme in (("gemma3", "q8"), ("qwen2", "q4")):
            random_checkpoint(kind, Path(tmp) / kind)
            packs.append((f"tiny-{kind}-{scheme}", load_checkpoint(Path(tmp) / kind).eval(), scheme, [1, 2]))
        for pack_id, model, scheme, encoder_layers in packs:
            export_pack(
                model, args.source, args.out_dir / pack_id, pack_id=pack_id, name=f"{pack_id} (engine tests)",
                lora=lora, encoder_layers=encoder_layers, quant=SCHEMES[scheme], calibration=calibration,
                license_info={"name": "MIT", "note": "Random weights made by this project for tests."},
                provenance={"kind": "engine-test-pack", "scheme": scheme},
            )
            print(f"wrote {args.out_dir / pack_id}")


if __name__ == "__main__":
    main()
