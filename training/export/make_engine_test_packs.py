"""Block-quantized copies of the tiny test pack, so every weight format of the engines is tested on small files.

    python -m training.export.make_quant_test_packs

writes public/models/tiny-random-q8 (8-bit symmetric blocks) and public/models/tiny-random-q4 (4-bit blocks with
zero points): the same weights as public/models/tiny-random, quantized as build_gemma_pack quantizes Gemma.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

from .pack import export_pack, load_pack_model, lora_spec_of
from .quant import SCHEMES


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, default=Path("public/models/tiny-random"))
    ap.add_argument("--out-dir", type=Path, default=Path("public/models"))
    args = ap.parse_args()
    model, manifest = load_pack_model(args.source)
    model.eval()
    # Calibration text for the 4-bit blocks' range search: fixed random token sequences.
    g = torch.Generator().manual_seed(0)
    calibration = [torch.randint(0, model.config.vocab_size, (64,), generator=g).tolist() for _ in range(4)]
    for scheme in ("q8", "q4"):
        pack_id = f"{manifest['id']}-{scheme}"
        export_pack(
            model, args.source, args.out_dir / pack_id, pack_id=pack_id, name=f"{manifest['name']}, {scheme}",
            lora=lora_spec_of(manifest), encoder_layers=manifest["encoder"]["layers"], quant=SCHEMES[scheme],
            calibration=calibration, license_info=manifest["license"],
            provenance={"kind": "quantized-copy", "source": manifest["id"], "scheme": scheme},
        )
        print(f"wrote {args.out_dir / pack_id}")


if __name__ == "__main__":
    main()
