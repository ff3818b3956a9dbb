#!/usr/bin/env bash
# The small pack's whole training on one CUDA GPU (docs/training-gpu.md): the base model from scratch, its pack,
# then the hypernetwork for three seeds side by side on the same GPU. Needs training/data (make_data) and the
# small tokenizer in training/runs/small-gpu/tokenizer (or it trains one).
#   scripts/gpu-train-small.sh OUT_DIR [BASE_SECONDS] [HYPERNET_MINUTES]
# OUT_DIR gets the results: small-ckpt.pt (weights, config and training state, no optimizer), hypernet-sN.safetensors
# (fp16 copies; `python -m training.export.add_hypernet` takes them) and logs.tar.gz.
set -uo pipefail
out=${1:?usage: scripts/gpu-train-small.sh OUT_DIR [BASE_SECONDS] [HYPERNET_MINUTES]}
base_s=${2:-240}
hyper_min=${3:-2.5}
py=${PYTHON:-python3}
device=${DEVICE:-cuda}  # DEVICE=cpu: a smoke run of this script without a GPU
work=${WORK_DIR:-/tmp/gpu-train-small}
mkdir -p "$out" "$work"
export PYTHONUNBUFFERED=1

$py -m training.train_small --config training/configs/small-gpu.json --max_train_s="$base_s" --device="$device" 2>&1 | tee "$work/base.log"
$py -m training.train_small --config training/configs/small-gpu.json --device="$device" --export "$work/pack" 2>&1 | tee "$work/export.log"
if [ -f "$work/pack/manifest.json" ]; then
  for seed in 0 1 2; do
    $py -m training.train_hypernet --config training/configs/hypernet-small-gpu.json --pack "$work/pack" --seed "$seed" \
      --out "$work/hypernet-s$seed" --cache_dir "$work/cache-s$seed" --max_minutes "$hyper_min" --device "$device" >"$work/hypernet-s$seed.log" 2>&1 &
  done
  wait
  tail -n 3 "$work"/hypernet-s*.log
fi
$py - "$out" "$work" <<'PY'
import sys, torch
from pathlib import Path
from safetensors import safe_open
from safetensors.torch import save_file
out, work = Path(sys.argv[1]), Path(sys.argv[2])
ckpt = Path("training/runs/small-gpu/ckpt.pt")
if ckpt.exists():
    state = torch.load(ckpt, map_location="cpu", weights_only=False)
    state.pop("optimizer", None)
    torch.save(state, out / "small-ckpt.pt")
for seed in (0, 1, 2):
    f = work / f"hypernet-s{seed}" / "hypernet.safetensors"
    if f.exists():
        with safe_open(str(f), "pt") as h:
            save_file({k: h.get_tensor(k).half() for k in h.keys()}, str(out / f"hypernet-s{seed}.safetensors"), metadata=h.metadata())
PY
tar czf "$out/logs.tar.gz" -C "$work" --exclude='cache-*' --exclude='*.pt' --exclude='*.safetensors' --exclude='*.onnx' . \
  -C "$PWD" training/runs/small-gpu/log.jsonl training/results/small-train.json 2>/dev/null
ls -la "$out"
