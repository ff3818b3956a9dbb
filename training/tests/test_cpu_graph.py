"""The pack's WebAssembly graph (training/export/cpu_graph.py: int8 products, smoothing, float outlier channels, a
float down projection) against the PyTorch model of the same pack: prefill, encoder states and decode steps through
the KV cache, with and without an adapter, on tied and untied heads, 8-bit and 4-bit packs."""
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from training.export.cpu_graph import (MODEL_FILE, WEIGHTS_FILE, build_cpu_graph, cpu_logits, head_logits, int8_probe_sum,
                                       native_int8_saturates, quantize_rows, random_calibration)
from training.export.pack import export_pack, load_pack_model, lora_spec_of, random_lora, sha256_file
from training.export.quant import SCHEMES
from training.export.reference_logits import run_session
from training.hf_checkpoint import load_checkpoint
from training.model import LoraSpec
from training.tests.test_model import hf_model

ROOT = Path(__file__).resolve().parents[2]
TOKENIZER_DIR = ROOT / "public/models/tiny-random"


@pytest.fixture(scope="module", params=[("gemma3", "q8"), ("qwen2", "q4"), ("llama", "q8")])
def pack(request):
    kind, scheme = request.param
    with tempfile.TemporaryDirectory() as d:
        ckpt, out = Path(d) / "ckpt", Path(d) / "pack"
        hf_model(kind).save_pretrained(ckpt)
        spec = LoraSpec(rank=2, slots=3, target_modules=["q_proj", "v_proj", "down_proj"])
        calibration = random_calibration(300, sequences=4, tokens=48)
        export_pack(load_checkpoint(ckpt), TOKENIZER_DIR, out, "t", "t", spec, [0, 2], {"name": "test"}, {"seed": 0},
                    quant=SCHEMES[scheme], calibration=calibration)
        described = build_cpu_graph(out, calibration, log=lambda _m: None)
        reference, manifest = load_pack_model(out)  # the pack's weights, dequantized: what its own graph computes
        yield kind, reference, manifest, described, out


def relative_error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.linalg.norm(got - want) / np.linalg.norm(want))


def test_manifest_lists_the_cpu_files(pack):
    kind, _, manifest, described, out = pack
    files = {f["role"]: f for f in manifest["files"]}
    for role, name in (("cpu-model", MODEL_FILE), ("cpu-weights", WEIGHTS_FILE)):
        assert files[role]["name"] == name
        assert files[role]["bytes"] == (out / name).stat().st_size and files[role]["sha256"] == sha256_file(out / name)
    assert manifest["cpuGraph"] == described
    graph = onnx.load(str(out / MODEL_FILE), load_external_data=False).graph
    ops = {n.op_type for n in graph.node}
    assert "MatMulNBits" not in ops and "DynamicQuantizeMatMul" in ops
    # A head that ends the graph leaves it for the engine's kernel; a soft-capped one stays in it.
    assert (described["head"] is not None) == (not manifest["architecture"]["finalLogitSoftcapping"]), kind
    if described["head"]:
        assert graph.output[0].name == described["head"]["input"] and "logits" not in {o.name for o in graph.output}
    # Every block-quantized matmul of the pack graph got a replacement; the down projections are the float ones.
    assert described["matmuls"]["float"] == manifest["architecture"]["numHiddenLayers"]
    # Self-contained: the graph reads its own weights file only, never the pack's.
    locations = {e.value for t in graph.initializer for e in t.external_data if e.key == "location"}
    assert locations == {WEIGHTS_FILE}


def test_the_saturation_probe_reads_one_of_the_two_known_sums():
    """native_int8_saturates' probe (64 x 255 x 127 after dynamic quantization) is either exact (8128) or
    saturated per 16-bit pair (32 pairs x 32767 / 255 = 4112: x86 without VNNI); anything else is another fault."""
    got = int8_probe_sum()
    assert abs(got - 8128) < 1 or abs(got - 32 * 32767 / 255) < 1, got
    assert native_int8_saturates() == (abs(got - 8128) >= 1)


@pytest.mark.parametrize("with_lora", [False, True])
def test_cpu_graph_follows_the_pack_model(pack, with_lora):
    if native_int8_saturates():
        pytest.skip("this CPU's native onnxruntime saturates uint8 x int8 pair sums (x86 without VNNI), which the "
                    "browser's WebAssembly kernels do not: no reference here for the graph's products")
    kind, reference, manifest, _, out = pack
    config, spec = reference.config, lora_spec_of(manifest)
    lora = random_lora(config, spec, seed=3, std=0.1) if with_lora else {m: (a * 0, b * 0) for m, (a, b) in random_lora(config, spec, 3).items()}
    sess = ort.InferenceSession(str(out / MODEL_FILE), providers=["CPUExecutionProvider"])
    ids = [1, 7, 19, 4, 200, 33, 9, 12]
    with torch.no_grad():
        want, _, hidden = reference(torch.tensor([ids]), lora=lora, encoder_layers=[0, 2])
    first, past, enc = run_session(sess, config, spec, ids, lora)
    logits = cpu_logits(out, [first], manifest)
    # int8 products quantize activations per row: a few percent of error, never a wrong wiring (which is ~100%).
    errors = [relative_error(logits[0, -1], want[0, -1].numpy()), relative_error(enc, hidden.numpy())]
    seq = list(ids)
    for _ in range(6):  # past gemma3's sliding window of 4
        seq.append(int(np.argmax(want[0, -1].numpy())))
        first, past, _ = run_session(sess, config, spec, seq[-1:], lora, past=past, past_len=len(seq) - 1)
        logits = cpu_logits(out, [first], manifest)
        with torch.no_grad():
            want, _, _ = reference(torch.tensor([seq]), lora=lora)
        errors.append(relative_error(logits[0, -1], want[0, -1].numpy()))
    assert max(errors) < 0.1, (kind, [round(e, 4) for e in errors])


def test_a_float_pack_is_refused(tmp_path):
    ckpt, out = tmp_path / "ckpt", tmp_path / "pack"
    hf_model("gemma3").save_pretrained(ckpt)
    export_pack(load_checkpoint(ckpt), TOKENIZER_DIR, out, "t", "t", LoraSpec(rank=2, slots=1, target_modules=["q_proj"]), [0], {"name": "test"}, {})
    with pytest.raises(ValueError, match="no block-quantized weights"):
        build_cpu_graph(out, random_calibration(300), log=lambda _m: None)


def test_head_rows_follow_onnx_dynamic_quantization():
    """quantize_rows is ONNX DynamicQuantizeLinear and head_logits its product with int8 rows as com.microsoft
    DynamicQuantizeMatMul computes it (onnxruntime as the reference), on the fixture the browser kernel's test
    (src/model/cpu-head.test.ts) reads: its logits are onnxruntime's."""
    import json

    from onnx import TensorProto, helper

    from training.export.cpu_graph import HEAD_FIXTURE

    fx = json.loads(HEAD_FIXTURE.read_text())
    x, rows, scale = np.array(fx["hidden"], np.float32), np.array(fx["rows"], np.int8), np.array(fx["scale"], np.float32)
    k, v = rows.shape[1], rows.shape[0]
    graph = helper.make_graph(
        [helper.make_node("DynamicQuantizeLinear", ["x"], ["q", "s", "z"]),
         helper.make_node("DynamicQuantizeMatMul", ["x", "b", "bs"], ["y"], domain="com.microsoft")],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, k]), helper.make_tensor_value_info("b", TensorProto.INT8, [k, v]),
              helper.make_tensor_value_info("bs", TensorProto.FLOAT, [v])],
        [helper.make_tensor_value_info(n, t, None) for n, t in (("q", TensorProto.UINT8), ("s", TensorProto.FLOAT), ("z", TensorProto.UINT8), ("y", TensorProto.FLOAT))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 8
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    q, s, z, y = sess.run(None, {"x": x[None], "b": np.ascontiguousarray(rows.T), "bs": scale})
    a, a_scale = quantize_rows(x)
    assert a_scale == s
    np.testing.assert_array_equal(a, q[0].astype(np.int32) - int(z))
    # The fixture's logits were onnxruntime's on a CPU that sums exactly; head_logits must give them everywhere, and
    # this machine's onnxruntime too unless it saturates its uint8 x int8 pair sums (x86 without VNNI).
    np.testing.assert_allclose(head_logits(x, rows, scale), np.array(fx["logits"], np.float32), rtol=1e-6, atol=1e-6)
    if not native_int8_saturates():
        np.testing.assert_allclose(head_logits(x, rows, scale), y[0], rtol=1e-6, atol=1e-6)
