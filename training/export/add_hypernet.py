"""Put a trained hypernetwork into a pack: copy it as hypernet.safetensors and list it in the manifest.

python -m training.export.add_hypernet --pack public/models/small-skills --hypernet training/runs/hypernet-small-s0/hypernet.safetensors
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from ..hypernet import load_hypernet
from .pack import sha256_file

HYPERNET_FILE = "hypernet.safetensors"


def add_hypernet(pack: Path, hypernet: Path) -> dict:
    net = load_hypernet(hypernet)  # refuses a file of another format before it enters the pack
    if net.config.format_version != 1:
        raise ValueError(f"{hypernet}: a version {net.config.format_version} hypernetwork (head {net.config.head}, bias_rank {net.config.bias_rank}); "
                         "the app reads version 1 only, so it cannot go into a pack yet")
    manifest = json.loads((pack / "manifest.json").read_text())
    if net.config.reads_layers(manifest) != list(manifest["encoder"]["layers"]):
        raise ValueError(f"{hypernet}: reads base layers {net.config.encoder_layers}, but this pack's graph gives layers "
                         f"{manifest['encoder']['layers']}; build the pack with those encoder layers")
    arch = manifest["architecture"]
    if net.config.hidden_size != arch["hiddenSize"] or net.config.num_layers != arch["numHiddenLayers"]:
        raise ValueError(f"{hypernet}: made for hidden size {net.config.hidden_size} x {net.config.num_layers} layers, not this pack")
    if net.config.modules != manifest["lora"]["targetModules"] or net.config.rank != manifest["lora"]["rank"]:
        raise ValueError(f"{hypernet}: its LoRA targets or rank differ from the pack's")
    shutil.copyfile(hypernet, pack / HYPERNET_FILE)
    entry = {"name": HYPERNET_FILE, "role": "hypernet", "bytes": (pack / HYPERNET_FILE).stat().st_size, "sha256": sha256_file(pack / HYPERNET_FILE)}
    manifest["files"] = [f for f in manifest["files"] if f["role"] != "hypernet"] + [entry]
    (pack / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return entry


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pack", type=Path, required=True)
    ap.add_argument("--hypernet", type=Path, required=True)
    args = ap.parse_args()
    print(add_hypernet(args.pack, args.hypernet))


if __name__ == "__main__":
    main()
