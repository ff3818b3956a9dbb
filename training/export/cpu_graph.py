"""A second graph of a pack for onnxruntime-web's WebAssembly backend (roles `cpu-model` and `cpu-weights`).

python -m training.export.cpu_graph --pack public/models/gemma-3-270m

Why: the WebAssembly build of onnxruntime has no fast kernel for com.microsoft MatMulNBits (block-quantized weights):
the 8-bit Gemma pack decoded at 1.3-1.4 tokens/s there, against 13-14 for llama.cpp compiled to WebAssembly
(docs/cpu-path.md). Its int8 GEMM (MLAS's WebAssembly SIMD kernel behind DynamicQuantizeMatMul) is fast. So this
graph is the pack's graph with every MatMulNBits replaced:
- the tied LM head: int8 weights, one row and one scale per token, activations quantized to uint8 at run time
  (DynamicQuantizeLinear's rule); the embedding lookup reads the same int8 table, so the file holds it once. Where the
  head ends the graph (every pack we build) it leaves it: the graph outputs the head's input (`head_input`) and the
  engine's own WebAssembly kernel (src/model/cpu-head.ts; `head_logits` here is its reference) makes the logits, which
  onnxruntime-web's int8 GEMM took 2/3 of a Gemma decode step for;
- q/k/v/o, gate and up: the same, after SmoothQuant-style smoothing (each input channel divided by
  s = max|x|^a / max|W|^(1-a), a = SMOOTHING_ALPHA, its weight row multiplied by s; max|x| from calibration text) and with the OUTLIERS input
  channels of largest calibrated |x| kept out of the int8 product: a small float32 MatMul adds them (LLM.int8's
  decomposition). onnxruntime quantizes a product's whole input with one scale (one token in decode, every prompt token
  at once in a prefill), which costs accuracy exactly where a few channels are far larger than the rest;
- the MLP's down projection (its input gelu(gate) * up is the most heavy-tailed: int8 there alone cost 10x the
  error of all the others together, measured) stays float32, stored float16 behind a Cast that onnxruntime folds when
  it makes the session.
The LoRA branches, norms, attention and outputs are the pack graph's own. The weights are requantized from the pack's
own blocks, so the graph approximates the pack's graph (tests/test_cpu_graph.py bounds the difference; the browser's
wasm logits equal onnxruntime Python's on this graph, e2e/gemma.spec.ts). The WebGPU paths keep the pack's graph.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file

from .pack import sha256_file
from .quant import ROWS_PER_CHUNK, TENSOR_SUFFIXES, BlockQuantized, dequantize

MODEL_FILE, WEIGHTS_FILE = "model-cpu.onnx", "weights-cpu.bin"
VERSION = 2  # bumped when this graph changes: packs holding an older one get it rebuilt
SMOOTHING_ALPHA = 0.65  # chosen on Gemma's chat prompts: KL to the pack graph 0.031 at 0.5, 0.013 at 0.65 (13 prompts)
OUTLIERS = 16  # at most; never more than an eighth of the input channels
FLOAT_MODULES = ("mlp.down_proj",)
HEAD_INPUT = "head_input"  # the graph's first output when the LM head is the engine's: [batch, 1, hidden]
MS = "com.microsoft"


def block_weight(w: dict[str, np.ndarray], data: str, block_size: int) -> BlockQuantized:
    base = data[: -len(TENSOR_SUFFIXES["data"])]
    q = w[data]
    return BlockQuantized(q.shape[-1] * 8 // block_size, block_size, q, w[base + TENSOR_SUFFIXES["scales"]], w.get(base + TENSOR_SUFFIXES["zero_points"]))


def int8_columns(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """W [N, K] -> (int8 [K, N], scale [N]) with W ~ q.T * scale, symmetric, one scale per output row of W."""
    scale = np.abs(w).max(1) / 127.0
    scale[scale == 0] = 1.0
    q = np.empty((w.shape[1], w.shape[0]), np.int8)
    for r in range(0, w.shape[0], ROWS_PER_CHUNK):
        q[:, r:r + ROWS_PER_CHUNK] = np.clip(np.rint(w[r:r + ROWS_PER_CHUNK] / scale[r:r + ROWS_PER_CHUNK, None]), -127, 127).astype(np.int8).T
    return q, scale.astype(np.float32)


def activation_maxima(model: onnx.ModelProto, pack: Path, feeds_for, calibration: list[list[int]]) -> dict[str, np.ndarray]:
    """Per input channel, the largest |x| that reaches each MatMulNBits on the calibration sequences."""
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    inputs = sorted({n.input[0] for n in probe.graph.node if n.op_type == "MatMulNBits"})
    for name in inputs:
        probe.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    path = pack / ".calibration.onnx"  # next to the weights its external data names
    onnx.save(probe, str(path))
    try:
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        names = [o.name for o in sess.get_outputs()]
        maxima: dict[str, np.ndarray] = {}
        for ids in calibration:
            outs = dict(zip(names, sess.run(None, feeds_for(ids))))
            for name in inputs:
                m = np.abs(outs[name].reshape(-1, outs[name].shape[-1])).max(0)
                maxima[name] = m if name not in maxima else np.maximum(maxima[name], m)
    finally:
        path.unlink(missing_ok=True)
    return maxima


def build_cpu_graph(pack: Path, calibration: list[list[int]], log=print) -> dict:
    """Write MODEL_FILE and WEIGHTS_FILE into `pack` and list them in its manifest; returns the manifest's `cpuGraph`."""
    from ..model import zero_lora
    from .pack import lora_spec_of, model_config_of
    from .reference_logits import session_feeds

    manifest = json.loads((pack / "manifest.json").read_text())
    quant = manifest.get("weights", {}).get("quantization")
    block_size = quant["blockSize"] if quant else None
    model = onnx.load(str(pack / "model.onnx"), load_external_data=False)
    if block_size is None or not any(n.op_type == "MatMulNBits" for n in model.graph.node):
        raise ValueError(f"{pack}: the graph has no block-quantized weights; a float pack needs no CPU graph")
    config, spec = model_config_of(manifest), lora_spec_of(manifest)
    lora = zero_lora(config, spec)

    def feeds_for(ids: list[int]) -> dict[str, np.ndarray]:
        return session_feeds(config, spec, ids, lora)

    # Any CPU graph listed now is about to be replaced: a build that fails part way leaves a pack without one (the
    # engines then run the pack's own graph), never a manifest naming files that are gone or changed.
    if any(f["role"] in ("cpu-model", "cpu-weights") for f in manifest["files"]) or "cpuGraph" in manifest:
        manifest["files"] = [f for f in manifest["files"] if f["role"] not in ("cpu-model", "cpu-weights")]
        manifest.pop("cpuGraph", None)
        (pack / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    maxima = activation_maxima(model, pack, feeds_for, calibration)
    log(f"calibrated {len(maxima)} matmul inputs on {len(calibration)} sequences")
    weights = load_file(str(pack / file_of(manifest, "weights")))
    g = model.graph
    nodes = list(g.node)
    consumers: dict[str, list] = {}
    for n in nodes:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    new_inits: dict[str, np.ndarray] = {}
    replaced: dict[int, list] = {}  # id(node) -> its replacement nodes
    smoothed: dict[str, tuple[str, str, np.ndarray, np.ndarray]] = {}  # input -> (inliers, outliers, scale, outlier idx)
    embedding_data = "model.embed_tokens.weight" + TENSOR_SUFFIXES["data"]
    counts = {"int8": 0, "int8_smoothed": 0, "float": 0}
    head = None  # set when the LM head leaves the graph
    matmuls = [n for n in nodes if n.op_type == "MatMulNBits"]

    pending: dict[str, np.ndarray] = {}  # weights already dequantized for a shared input's smoothing, until their turn

    def weight_of(data: str) -> np.ndarray:
        return pending.pop(data) if data in pending else dequantize(block_weight(weights, data, block_size))

    def const(name: str, value: np.ndarray) -> str:
        new_inits[name] = value
        return name

    for n in matmuls:
        x, data = n.input[0], n.input[1]
        base = data[: -len(TENSOR_SUFFIXES["data"])]
        w = weight_of(data)  # [N, K]
        if any(f".{m}." in base for m in FLOAT_MODULES):
            half = const(base + ".f16", w.T.astype(np.float16))  # [K, N]
            full = base + ".f32"
            replaced[id(n)] = [helper.make_node("Cast", [half], [full], to=TensorProto.FLOAT),
                               helper.make_node("MatMul", [x, full], list(n.output))]
            counts["float"] += 1
            continue
        if w.shape[0] == config.vocab_size:  # the LM head: plain int8, one row per token, shared with the embedding lookup
            q, scale = int8_columns(w)
            rows, scale = const(base + ".i8", np.ascontiguousarray(q.T)), const(base + ".i8scale", scale)  # [vocab, hidden]
            after = consumers.get(n.output[0], [])
            if len(after) == 1 and after[0].op_type == "Unsqueeze" and after[0].output[0] == "logits" and w.shape[1] % 16 == 0:
                # The head leaves the graph: it outputs the head's input and the engine's own kernel (src/model/cpu-head.ts)
                # computes the logits from the same table; onnxruntime-web's int8 GEMM took 2/3 of a decode step here.
                # (The kernel reads 16 values at a time: another hidden size keeps the head in the graph.)
                replaced[id(after[0])] = [helper.make_node("Unsqueeze", [x, after[0].input[1]], [HEAD_INPUT])]
                replaced[id(n)] = []
                head = {"input": HEAD_INPUT, "weight": rows, "scale": scale}
            else:
                transposed = const(base + ".i8t", q)
                replaced[id(n)] = [helper.make_node("DynamicQuantizeMatMul", [x, transposed, scale], list(n.output), domain=MS)]
            counts["int8"] += 1
            continue
        if x not in smoothed:
            others = [m.input[1] for m in matmuls if m.input[0] == x and m is not n]
            pending.update({d: dequantize(block_weight(weights, d, block_size)) for d in others})
            wmax = np.max([np.abs(v).max(0) for v in [w, *(pending[d] for d in others)]], axis=0)
            s = (np.maximum(maxima[x], 1e-5) ** SMOOTHING_ALPHA / np.maximum(wmax, 1e-5) ** (1 - SMOOTHING_ALPHA)).astype(np.float32)
            k = min(OUTLIERS, w.shape[1] // 8)
            idx = np.sort(np.argsort(-maxima[x], kind="stable")[:k]).astype(np.int64)
            keep = np.ones(w.shape[1], np.float32)
            keep[idx] = 0
            # x / s with the outlier channels zeroed feeds the int8 product; the outlier channels (also / s) the float one.
            inl, outl = x + ".inliers", x + ".outliers"
            pre = [helper.make_node("Mul", [x, const(x + ".smooth", (keep / s).astype(np.float32))], [inl]),
                   helper.make_node("Gather", [x, const(x + ".outlier_idx", idx)], [x + ".outliers_raw"], axis=-1),
                   helper.make_node("Mul", [x + ".outliers_raw", const(x + ".outlier_smooth", (1 / s[idx]).astype(np.float32))], [outl])]
            smoothed[x] = (inl, outl, s, idx)
            new_pre = pre
        else:
            new_pre = []
        inl, outl, s, idx = smoothed[x]
        ws = w * s[None, :]
        w_out = ws[:, idx].T.astype(np.float32)  # [k, N]
        ws[:, idx] = 0
        q, scale = int8_columns(ws)
        y_q, y_f = n.output[0] + ".int8", n.output[0] + ".outliers"
        replaced[id(n)] = new_pre + [
            helper.make_node("DynamicQuantizeMatMul", [inl, const(base + ".i8", q), const(base + ".i8scale", scale)], [y_q], domain=MS),
            helper.make_node("MatMul", [outl, const(base + ".outlier_rows", w_out)], [y_f]),
            helper.make_node("Add", [y_q, y_f], list(n.output)),
        ]
        counts["int8_smoothed"] += 1

    # A tied embedding lookup: rows of the int8 head table (stored [vocab, hidden]) times their scale, in the shape the
    # pack's lookup had ([batch, sequence, blocks, block_size]); its old nodes fall away below as unused.
    lookup = next((n for n in nodes if n.op_type == "Gather" and n.input[0] == embedding_data), None)
    head_base = "model.embed_tokens.weight"
    if lookup is not None and head_base + ".i8" in new_inits:  # tied; an untied embedding keeps its own lookup
        cast = consumers[lookup.output[0]][0]
        sub = consumers[cast.output[0]][0]
        mul = consumers[sub.output[0]][0]
        ids = lookup.input[1]
        hidden = new_inits[head_base + ".i8"].shape[1]
        e = mul.output[0]
        replaced[id(mul)] = [
            helper.make_node("Gather", [head_base + ".i8", ids], [e + ".rows"], axis=0),  # [batch, sequence, hidden]
            helper.make_node("Cast", [e + ".rows"], [e + ".float"], to=TensorProto.FLOAT),
            helper.make_node("Gather", [head_base + ".i8scale", ids], [e + ".scale"], axis=0),
            helper.make_node("Unsqueeze", [e + ".scale", const(e + ".last", np.array([-1], np.int64))], [e + ".scale1"]),
            helper.make_node("Mul", [e + ".float", e + ".scale1"], [e + ".flat"]),
            helper.make_node("Reshape", [e + ".flat", const(e + ".blocks", np.array([0, 0, hidden // block_size, block_size], np.int64))], [e]),
        ]

    out_nodes = []
    for n in nodes:
        out_nodes += replaced.get(id(n), [n])
    if head is not None:
        logits = next(o for o in g.output if o.name == "logits")
        g.output.remove(logits)
        g.output.insert(0, helper.make_tensor_value_info(HEAD_INPUT, TensorProto.FLOAT, ["batch", 1, config.hidden_size]))
    # Drop what nothing reads any more (the old lookup), then the initializers no node reads.
    graph_outputs = {o.name for o in g.output}
    while True:
        read = {i for n in out_nodes for i in n.input} | graph_outputs
        kept = [n for n in out_nodes if any(o in read for o in n.output)]
        if len(kept) == len(out_nodes):
            break
        out_nodes = kept
    read = {i for n in out_nodes for i in n.input}
    old_inits = [t for t in g.initializer if t.name in read]
    del g.node[:]
    g.node.extend(out_nodes)
    del g.initializer[:]
    # The pack's own tensors that stay (norms, small constants) are read from its weights file into this graph's file.
    for t in old_inits:
        if t.data_location == TensorProto.EXTERNAL:
            info = {e.key: e.value for e in t.external_data}
            arr = weights[t.name] if t.name in weights else None
            if arr is None:
                raise ValueError(f"{t.name}: external tensor not found in the pack's weights ({info.get('location')})")
            g.initializer.append(numpy_helper.from_array(np.ascontiguousarray(arr), t.name))
        else:
            g.initializer.append(t)
    for name, arr in new_inits.items():
        if name in read or (head is not None and name in (head["weight"], head["scale"])):  # the engine reads the head's
            g.initializer.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
    (pack / WEIGHTS_FILE).unlink(missing_ok=True)
    onnx.save(model, str(pack / MODEL_FILE), save_as_external_data=True, all_tensors_to_one_file=True, location=WEIGHTS_FILE,
              size_threshold=1024)
    onnx.checker.check_model(str(pack / MODEL_FILE))
    if head is not None:
        # Where the engine finds the head's table in the weights file: ONNX external data, byte ranges.
        saved = {t.name: {e.key: e.value for e in t.external_data} for t in onnx.load(str(pack / MODEL_FILE), load_external_data=False).graph.initializer}
        for key in ("weight", "scale"):
            arr = new_inits[head[key]]
            info = saved[head[key]]
            head[key] = {"name": head[key], "offset": int(info["offset"]), "bytes": int(info["length"]), "dtype": str(arr.dtype), "shape": list(arr.shape)}
        head["activations"] = "DynamicQuantizeLinear: uint8, one scale per hidden vector (onnx semantics), int32 products, times both scales"
    described = {
        "version": VERSION, "builtFrom": built_from(pack, manifest),
        "scheme": "DynamicQuantizeMatMul int8 (per-output-channel weights; uint8 activations, one scale per input tensor: per token in decode)",
        "smoothingAlpha": SMOOTHING_ALPHA, "outliers": OUTLIERS, "floatModules": list(FLOAT_MODULES),
        "calibration": {"sequences": len(calibration), "tokens": sum(len(c) for c in calibration)},
        "matmuls": counts, "head": head,
    }
    files = [f for f in manifest["files"] if f["role"] not in ("cpu-model", "cpu-weights")]
    for name, role in ((MODEL_FILE, "cpu-model"), (WEIGHTS_FILE, "cpu-weights")):
        files.append({"name": name, "role": role, "bytes": (pack / name).stat().st_size, "sha256": sha256_file(pack / name)})
    manifest["files"], manifest["cpuGraph"] = files, described
    (pack / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    log(f"wrote {MODEL_FILE} and {WEIGHTS_FILE} ({(pack / WEIGHTS_FILE).stat().st_size / 1e6:.1f} MB): {counts}")
    return described


_PROBE: float | None = None


def int8_probe_sum() -> float:
    """The native onnxruntime's DynamicQuantizeMatMul of 64 activations 1.0 (quantized to 255, scale 1/255) with 64
    weights 127 (scale 1): 8128 when summed exactly, 32 x 32767 / 255 = 4112 when summed in saturating 16-bit pairs."""
    global _PROBE
    if _PROBE is None:
        k = 64
        node = helper.make_node("DynamicQuantizeMatMul", ["A", "B", "scale", "zero"], ["Y"], domain="com.microsoft")
        graph = helper.make_graph([node], "probe", [helper.make_tensor_value_info("A", TensorProto.FLOAT, [1, k])],
                                  [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 1])],
                                  initializer=[numpy_helper.from_array(np.full((k, 1), 127, np.int8), "B"),
                                               numpy_helper.from_array(np.array([1.0], np.float32), "scale"),
                                               numpy_helper.from_array(np.array([0], np.int8), "zero")])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
        sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        _PROBE = float(sess.run(None, {"A": np.ones((1, k), np.float32)})[0][0, 0])
    return _PROBE


def native_int8_saturates() -> bool:
    """Whether this machine's native onnxruntime sums uint8 x int8 products in saturating 16-bit pairs (x86 without
    VNNI: AVX2's vpmaddubsw), so that DynamicQuantizeMatMul with large activations and weights loses magnitude.
    The browser's WebAssembly kernels and VNNI CPUs sum exactly; on such a CPU the native session is no reference for
    the graph's products."""
    return abs(int8_probe_sum() - 127 * 64) > 1.0


def quantize_rows(x: np.ndarray) -> tuple[np.ndarray, np.float32]:
    """ONNX DynamicQuantizeLinear of a float32 vector, in float32 as onnxruntime computes it; returns (q - zero point)
    as int32 and the scale."""
    x = x.astype(np.float32)
    lo, hi = np.float32(min(0.0, x.min())), np.float32(max(0.0, x.max()))
    scale = np.float32((hi - lo) / np.float32(255))
    if scale == 0:
        return np.zeros(x.shape, np.int32), scale
    zero = np.clip(np.rint(np.float32(-lo) / scale), 0, 255)  # rint: halves to even, as the spec says
    q = np.clip(np.rint(x / scale) + zero, 0, 255)
    return (q - zero).astype(np.int32), scale


def head_logits(hidden: np.ndarray, rows: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The head the engine computes outside a CPU graph (src/model/cpu-head.ts): logits [vocab] of one hidden vector."""
    a, a_scale = quantize_rows(hidden)
    acc = rows.astype(np.int32) @ a  # exact: |sum| < 2^31
    return acc.astype(np.float32) * (np.float32(a_scale) * scale.astype(np.float32))


def cpu_logits(pack: Path, outs: list[np.ndarray], manifest: dict | None = None) -> np.ndarray:
    """Last-position logits [batch, 1, vocab] from a run of the CPU graph (its first output is the logits, or the head's
    input when the head is the engine's)."""
    manifest = manifest or json.loads((pack / "manifest.json").read_text())
    head = manifest["cpuGraph"].get("head")
    if not head:
        return outs[0]
    raw = np.memmap(pack / WEIGHTS_FILE, dtype=np.uint8, mode="r")
    rows = raw[head["weight"]["offset"]:][: head["weight"]["bytes"]].view(np.int8).reshape(head["weight"]["shape"])
    scale = raw[head["scale"]["offset"]:][: head["scale"]["bytes"]].view(np.float32)
    h = outs[0]
    return np.stack([head_logits(h[b, -1], rows, scale) for b in range(h.shape[0])])[:, None, :]


HEAD_FIXTURE = Path(__file__).resolve().parents[2] / "src/model/cpu-head.fixture.json"


def write_head_fixture(path: Path = HEAD_FIXTURE) -> None:
    """Inputs for src/model/cpu-head.test.ts: a hidden vector with an outlier, int8 rows, row scales, and the logits
    onnxruntime's DynamicQuantizeMatMul gives (training/tests/test_cpu_graph.py checks them against it again)."""
    rng = np.random.default_rng(0)
    k, v = 64, 96
    x = (rng.standard_normal(k) * 3).astype(np.float32)
    x[5] = 40.0
    rows = rng.integers(-127, 128, (v, k)).astype(np.int8)
    scale = (rng.random(v) * 0.01 + 1e-3).astype(np.float32)
    path.write_text(json.dumps({"note": "written by python -m training.export.cpu_graph --head-fixture", "hidden": x.tolist(),
                                "rows": rows.tolist(), "scale": scale.tolist(), "logits": head_logits(x, rows, scale).tolist()}) + "\n")


def built_from(pack: Path, manifest: dict) -> dict:
    """The pack files this graph is made from, by sha256 (as the manifest lists them)."""
    return {f["role"]: f["sha256"] for f in manifest["files"] if f["role"] in ("model", "weights")}


def is_current(pack: Path) -> bool:
    """True when the pack holds this version's CPU graph, made from its current graph and weights."""
    manifest = json.loads((pack / "manifest.json").read_text())
    described = manifest.get("cpuGraph")
    files = {f["role"]: f for f in manifest["files"]}
    if not described or described.get("version") != VERSION or described.get("builtFrom") != built_from(pack, manifest):
        return False
    return all(r in files and (pack / files[r]["name"]).is_file() and (pack / files[r]["name"]).stat().st_size == files[r]["bytes"]
               for r in ("cpu-model", "cpu-weights"))


def file_of(manifest: dict, role: str) -> str:
    return next(f["name"] for f in manifest["files"] if f["role"] == role)


def random_calibration(vocab: int, sequences: int = 4, tokens: int = 64, seed: int = 0) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, vocab, tokens).tolist() for _ in range(sequences)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pack", type=Path)
    ap.add_argument("--head-fixture", action="store_true", help=f"write {HEAD_FIXTURE.name} for the kernel's test instead")
    args = ap.parse_args()
    if args.head_fixture:
        write_head_fixture()
        return
    if args.pack is None:
        ap.error("--pack is required")
    manifest = json.loads((args.pack / "manifest.json").read_text())
    from tokenizers import Tokenizer

    from .build_gemma_pack import calibration_sequences, chat_calibration

    # Where the tokenizer is Gemma's (<bos> first): what build_gemma_pack calibrates on; random ids for the test packs.
    has_bos = Tokenizer.from_file(str(args.pack / "tokenizer.json")).token_to_id("<bos>") is not None
    calibration = calibration_sequences(args.pack) + chat_calibration(args.pack) if has_bos else random_calibration(manifest["architecture"]["vocabSize"])
    build_cpu_graph(args.pack, calibration)


if __name__ == "__main__":
    main()
