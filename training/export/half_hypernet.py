"""Rewrite a hypernetwork file with float16 weights: half the bytes to ship and to download.

python -m training.export.half_hypernet training/runs/hypernet-gemma-500-s0/hypernet.safetensors \
    training/hypernets/gemma-3-270m.safetensors

Every reader widens the weights back to float32 at load (load_hypernet, the app's safetensors reader), so the
hypernetwork then computes in float32 with its fp16-rounded weights. Config and chunk length are kept; the
provenance gains where the file came from (its sha256) and the dtype change.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from ..hypernet import load_hypernet, save_hypernet
from .pack import sha256_file


def half_hypernet(src: Path, dst: Path) -> dict:
    if src.resolve() == dst.resolve():
        raise ValueError(f"{dst}: write the float16 copy to another path than its source")
    from safetensors import safe_open

    net = load_hypernet(src)  # refuses a file of another format
    with safe_open(str(src), "pt") as f:
        meta = f.metadata()
    provenance = json.loads(meta.get("provenance", "{}"))
    provenance["converted"] = {"to": "float16", "from_sha256": sha256_file(src)}
    # Rounding must not turn a weight into inf (largest fp16 is 65504) or flush a whole tensor to zero.
    for name, p in net.state_dict().items():
        h = p.half()
        if not torch.isfinite(h).all():
            raise ValueError(f"{src}: {name} overflows float16")
        if p.abs().max() > 0 and h.abs().max() == 0:
            raise ValueError(f"{src}: {name} underflows float16 to all zeros")
    dst.parent.mkdir(parents=True, exist_ok=True)
    save_hypernet(net, dst, int(meta["chunkTokens"]), provenance, dtype=torch.float16)
    return {"src": str(src), "dst": str(dst), "bytes": dst.stat().st_size, "from_bytes": src.stat().st_size}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", type=Path)
    ap.add_argument("dst", type=Path)
    args = ap.parse_args()
    print(json.dumps(half_hypernet(args.src, args.dst)))


if __name__ == "__main__":
    main()
