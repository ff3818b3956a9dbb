"""Reference last-position logits of a pack for a chat prompt, for the browser tests to compare against.

python -m training.export.reference_logits --pack public/models/gemma-3-270m --message "..." [--transformers DIR]

Prints JSON: the prompt ids (rendered by transformers from the pack's own chat template), the logits that
onnxruntime (Python, CPU) gives on the pack's graph (with --cpu-graph also on its WebAssembly graph), and, with --transformers, transformers' own fp32 model's (for a
skill-tuned pack, with the same delta applied by peft).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort

from ..conversations import load_tokenizer, render_ids
from ..model import LoraSpec, ModelConfig, zero_lora
from .pack import lora_spec_of, model_config_of


def session_feeds(config: ModelConfig, spec: LoraSpec, ids: list[int], lora, past=None, past_len: int = 0) -> dict[str, np.ndarray]:
    """The inputs of one run of a pack's decoder graph (see run_session)."""
    feeds = {
        "input_ids": np.array([ids], dtype=np.int64),
        "position_ids": np.arange(past_len, past_len + len(ids), dtype=np.int64)[None],
        "attention_mask": np.ones((1, past_len + len(ids)), dtype=np.int64),
    }
    for i in range(config.num_hidden_layers):
        for j, kv in enumerate(("key", "value")):
            feeds[f"past_key_values.{i}.{kv}"] = past[2 * i + j] if past else np.zeros((1, config.num_key_value_heads, 0, config.head_dim), np.float32)
    for m, (a, b) in lora.items():
        feeds[f"lora.{m}.A"], feeds[f"lora.{m}.B"] = a.numpy(), b.numpy()
    return feeds


def run_session(sess: ort.InferenceSession, config: ModelConfig, spec: LoraSpec, ids: list[int], lora, past=None, past_len: int = 0):
    """One run of a pack's decoder graph: (logits, present key/values, encoder hidden states). `lora` maps
    module -> (A, B) torch tensors; `past` is the previous run's presents (None: an empty cache)."""
    outs = sess.run(None, session_feeds(config, spec, ids, lora, past, past_len))
    return outs[0], outs[1:-1], outs[-1]


def graph_file(manifest: dict, graph: str) -> str:
    """The pack's own graph (`gpu`), or its WebAssembly graph (`cpu`, cpu_graph.py) where it has one."""
    roles = {f["role"]: f["name"] for f in manifest["files"]}
    return roles["cpu-model"] if graph == "cpu" and "cpu-model" in roles else roles["model"]


def ort_logits(pack: Path, ids: list[int], graph: str = "gpu") -> np.ndarray:
    """Last-position logits of one of the pack's graphs with no adapter (zero LoRA)."""
    manifest = json.loads((pack / "manifest.json").read_text())
    config, spec = model_config_of(manifest), lora_spec_of(manifest)
    sess = ort.InferenceSession(str(pack / graph_file(manifest, graph)), providers=["CPUExecutionProvider"])
    first = run_session(sess, config, spec, ids, zero_lora(config, spec))[0]
    if graph == "cpu" and manifest.get("cpuGraph"):
        from .cpu_graph import cpu_logits

        return cpu_logits(pack, [first], manifest)[0, -1]
    return first[0, -1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pack", type=Path, required=True)
    ap.add_argument("--message", required=True)
    ap.add_argument("--cpu-graph", action="store_true", help="also the logits of the pack's WebAssembly graph (cpu_graph.py)")
    ap.add_argument("--transformers", type=Path, default=None, help="a Hugging Face checkpoint folder of the same model")
    args = ap.parse_args()
    ids = render_ids(load_tokenizer(args.pack), [{"role": "user", "content": args.message}], add_generation_prompt=True)
    out = {"inputIds": ids, "onnxruntime": ort_logits(args.pack, ids).tolist()}
    if args.cpu_graph:
        from .cpu_graph import native_int8_saturates

        out["onnxruntimeCpuGraph"] = ort_logits(args.pack, ids, "cpu").tolist()
        out["nativeInt8Saturates"] = native_int8_saturates()  # then the line above is no reference for the browser's
    if args.transformers:
        import torch
        import transformers

        model = transformers.AutoModelForCausalLM.from_pretrained(str(args.transformers), dtype=torch.float32).eval()
        tuned = json.loads((args.pack / "manifest.json").read_text())["provenance"].get("skillTune")
        if tuned:  # a skill-tuned pack: the same delta, applied by peft to transformers' model
            from ..skill_tune import peft_merged
            from .build_gemma_pack import SKILL_DELTA
            from .pack import sha256_file

            if sha256_file(SKILL_DELTA) != tuned["sha256"]:
                raise SystemExit(f"the pack was built with another skill-tune delta than {SKILL_DELTA}: rebuild it")
            model = peft_merged(model, SKILL_DELTA)
        with torch.no_grad():
            out["transformers"] = model(torch.tensor([ids])).logits[0, -1].tolist()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
