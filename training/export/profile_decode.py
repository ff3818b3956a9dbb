"""Where a decode step of a pack's graph goes, per operator, on onnxruntime's CPU provider (Python, native).

python -m training.export.profile_decode --pack public/models/gemma-3-270m --out bench/results/decode-profile-native.json

Native kernels are not the browser's WebAssembly ones, so the times are a guide to the graph's shape, not to the
browser's speed (npm run bench:perf measures that). Each run: a 20-token prefill, then `--steps` greedy decode steps
with no adapter (zero LoRA), with onnxruntime's profiler on; per operator type and per node, the kernel time of the
decode steps. With `--accuracy-level N` every MatMulNBits node gets that accuracy_level (4: int8 activations) first,
so one command compares the graph as built against that variant.
"""
from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path

import onnx
import onnxruntime as ort

from ..model import zero_lora
from .pack import lora_spec_of, model_config_of
from .reference_logits import run_session

PROMPT_IDS = list(range(100, 120))


def profile(model_path: Path, pack: Path, steps: int, threads: int) -> dict:
    manifest = json.loads((pack / "manifest.json").read_text())
    config, spec = model_config_of(manifest), lora_spec_of(manifest)
    lora = zero_lora(config, spec)
    with tempfile.TemporaryDirectory() as tmp:
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.enable_profiling = True
        so.profile_file_prefix = str(Path(tmp) / "profile")
        sess = ort.InferenceSession(str(model_path), so, providers=["CPUExecutionProvider"])
        logits, past, _ = run_session(sess, config, spec, PROMPT_IDS, lora)
        t0 = time.perf_counter()
        for k in range(steps):
            nxt = int(logits[0, -1].argmax())
            logits, past, _ = run_session(sess, config, spec, [nxt], lora, past, len(PROMPT_IDS) + k)
        wall_ms = (time.perf_counter() - t0) / steps * 1000
        events = json.loads(Path(sess.end_profiling()).read_text())
    # Runs in order: the prefill first, then the decode steps; only the decode steps' kernels count.
    runs = [e for e in events if e.get("cat") == "Session" and e["name"] == "model_run"]
    decode_start = runs[1]["ts"] if len(runs) > 1 else 0
    by_op: collections.Counter = collections.Counter()
    by_node: collections.Counter = collections.Counter()
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time") and e["ts"] >= decode_start:
            by_op[e["args"].get("op_name", "?")] += e["dur"]
            by_node[e["name"][: -len("_kernel_time")]] += e["dur"]
    total = sum(by_op.values()) or 1
    return {
        "decode_ms_per_step": round(wall_ms, 2),
        "by_op": [{"op": op, "share": round(d / total, 4), "ms_per_step": round(d / 1000 / steps, 3)} for op, d in by_op.most_common()],
        "top_nodes": [{"node": n, "ms_per_step": round(d / 1000 / steps, 3)} for n, d in by_node.most_common(8)],
    }


def with_accuracy_level(pack: Path, level: int, out: Path) -> Path:
    model = onnx.load(str(pack / "model.onnx"), load_external_data=False)
    for node in model.graph.node:
        if node.op_type == "MatMulNBits":
            for a in [a for a in node.attribute if a.name == "accuracy_level"]:
                node.attribute.remove(a)
            node.attribute.append(onnx.helper.make_attribute("accuracy_level", level))
    # Next to the pack's weights, which the graph names as its external data.
    onnx.save(model, str(out))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pack", type=Path, default=Path("public/models/gemma-3-270m"))
    parser.add_argument("--out", type=Path, default=Path("bench/results/decode-profile-native.json"))
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--accuracy-level", type=int, help="also profile every MatMulNBits at this accuracy_level")
    args = parser.parse_args()
    if not (args.pack / "manifest.json").exists():
        raise SystemExit(f"{args.pack} holds no pack (npm start builds the Gemma pack)")
    manifest = json.loads((args.pack / "manifest.json").read_text())
    variants = {"as_built": profile(args.pack / "model.onnx", args.pack, args.steps, args.threads)}
    if args.accuracy_level is not None:
        variant = args.pack / f".model-accuracy{args.accuracy_level}.onnx"
        try:
            variants[f"accuracy_level_{args.accuracy_level}"] = profile(with_accuracy_level(args.pack, args.accuracy_level, variant), args.pack, args.steps, args.threads)
        finally:
            variant.unlink(missing_ok=True)
    result = {
        "command": "python -m training.export.profile_decode " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "pack": manifest["id"],
        "onnxruntime": ort.__version__,
        "machine": f"{platform.machine()}, {args.threads} threads",
        "note": "native onnxruntime CPU kernels, not the browser's WebAssembly ones: the shape of a step, not its browser speed",
        "prompt_tokens": len(PROMPT_IDS),
        "decode_steps": args.steps,
        "variants": variants,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    for name, v in variants.items():
        top = ", ".join(f"{o['op']} {o['share']:.0%}" for o in v["by_op"][:3])
        print(f"{name}: {v['decode_ms_per_step']} ms per decode step; {top}; slowest node {v['top_nodes'][0]}")


if __name__ == "__main__":
    main()
