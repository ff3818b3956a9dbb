"""Reference last-position logits of a pack for a chat prompt, for the browser tests to compare against.

python -m training.export.reference_logits --pack public/models/gemma-3-270m --message "..." [--transformers DIR]

Prints JSON: the prompt ids (rendered by transformers from the pack's own chat template), the logits that
onnxruntime (Python, CPU) gives on the pack's graph, and, with --transformers, transformers' own fp32 model's.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort

from ..conversations import load_tokenizer, render_ids


def ort_logits(pack: Path, ids: list[int]) -> np.ndarray:
    manifest = json.loads((pack / "manifest.json").read_text())
    a = manifest["architecture"]
    sess = ort.InferenceSession(str(pack / "model.onnx"), providers=["CPUExecutionProvider"])
    feeds = {
        "input_ids": np.array([ids], dtype=np.int64),
        "position_ids": np.arange(len(ids), dtype=np.int64)[None],
        "attention_mask": np.ones((1, len(ids)), dtype=np.int64),
    }
    for i in range(a["numHiddenLayers"]):
        for kv in ("key", "value"):
            feeds[f"past_key_values.{i}.{kv}"] = np.zeros((1, a["numKeyValueHeads"], 0, a["headDim"]), np.float32)
    for inp in sess.get_inputs():
        if inp.name.startswith("lora."):
            feeds[inp.name] = np.zeros([a["numHiddenLayers"] if d == inp.shape[0] else (manifest["lora"]["rank"] * manifest["lora"]["slots"] if isinstance(d, str) else d) for d in inp.shape], np.float32)
    return sess.run(["logits"], feeds)[0][0, -1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pack", type=Path, required=True)
    ap.add_argument("--message", required=True)
    ap.add_argument("--transformers", type=Path, default=None, help="a Hugging Face checkpoint folder of the same model")
    args = ap.parse_args()
    ids = render_ids(load_tokenizer(args.pack), [{"role": "user", "content": args.message}], add_generation_prompt=True)
    out = {"inputIds": ids, "onnxruntime": ort_logits(args.pack, ids).tolist()}
    if args.transformers:
        import torch
        import transformers

        model = transformers.AutoModelForCausalLM.from_pretrained(str(args.transformers), dtype=torch.float32).eval()
        with torch.no_grad():
            out["transformers"] = model(torch.tensor([ids])).logits[0, -1].tolist()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
