"""The exported ONNX graph (run by onnxruntime) against our PyTorch model, which test_model.py ties to transformers."""
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from training.export.pack import export_pack, load_pack_model, lora_spec_of, random_lora, sha256_file
from training.export.reference_logits import run_session
from training.hf_checkpoint import load_checkpoint
from training.model import LoraSpec
from training.tests.test_model import hf_model

ROOT = Path(__file__).resolve().parents[2]
TOKENIZER_DIR = ROOT / "public/models/tiny-random"


@pytest.fixture(scope="module", params=["llama", "qwen2", "gemma3"])
def pack(request):
    with tempfile.TemporaryDirectory() as d:
        ckpt, out = Path(d) / "ckpt", Path(d) / "pack"
        hf_model(request.param).save_pretrained(ckpt)
        model = load_checkpoint(ckpt)
        spec = LoraSpec(rank=2, slots=3, target_modules=["q_proj", "v_proj", "down_proj"])
        manifest = export_pack(model, TOKENIZER_DIR, out, "t", "t", spec, [0, 2], {"name": "test"}, {"seed": 0})
        yield model, manifest, out


def test_manifest_checksums(pack):
    _, manifest, out = pack
    for f in manifest["files"]:
        assert (out / f["name"]).stat().st_size == f["bytes"]
        assert sha256_file(out / f["name"]) == f["sha256"]


def test_pack_reloads_same_weights(pack):
    model, _, out = pack
    again, _ = load_pack_model(out)
    for k, v in model.state_dict().items():
        assert torch.equal(again.state_dict()[k], v), k


def check_prefill_and_decode(reference, config, manifest, out: Path, with_lora: bool) -> None:
    """The pack's graph (onnxruntime) against a PyTorch model: prefill logits and encoder states, then
    decode steps through the KV cache (long enough to cross gemma3's sliding window of 4), within 1e-4."""
    spec = lora_spec_of(manifest)
    lora = random_lora(config, spec, seed=3, std=0.1) if with_lora else {m: (a * 0, b * 0) for m, (a, b) in random_lora(config, spec, 3).items()}
    sess = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    ids = [1, 7, 19, 4, 200, 33, 9, 12]
    with torch.no_grad():
        want, _, hidden = reference(torch.tensor([ids]), lora=lora, encoder_layers=[0, 2])
    logits, past, enc = run_session(sess, config, spec, ids, lora)
    np.testing.assert_allclose(logits[0, -1], want[0, -1].numpy(), atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(enc, hidden.numpy(), atol=1e-4, rtol=1e-4)
    seq = list(ids)
    for _ in range(3):
        seq.append(int(np.argmax(logits[0, -1])))
        logits, past, _ = run_session(sess, config, spec, seq[-1:], lora, past=past, past_len=len(seq) - 1)
        with torch.no_grad():
            full, _, _ = reference(torch.tensor([seq]), lora=lora)
        np.testing.assert_allclose(logits[0, -1], full[0, -1].numpy(), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("with_lora", [False, True])
def test_onnx_matches_pytorch_prefill_and_decode(pack, with_lora):
    model, manifest, out = pack
    check_prefill_and_decode(model, model.config, manifest, out, with_lora)


def test_committed_test_pack_matches_fixture():
    """The committed tiny pack and its browser fixture still agree with the PyTorch model."""
    import json
    fixture = json.loads((ROOT / "e2e/fixtures/tiny-random.json").read_text())
    model, manifest = load_pack_model(TOKENIZER_DIR)
    lora = {m: (torch.tensor(v["A"]).view(v["shapeA"]), torch.tensor(v["B"]).view(v["shapeB"])) for m, v in fixture["lora"].items()}
    with torch.no_grad():
        base, _, _ = model(torch.tensor([fixture["inputIds"]]))
        adapted, _, _ = model(torch.tensor([fixture["inputIds"]]), lora=lora)
    for name, got in (("base", base), ("lora", adapted)):
        for ref in ("pytorch", "transformers"):
            np.testing.assert_allclose(got[0, -1].numpy(), fixture["logits"][name][ref], atol=1e-4)
    assert not np.allclose(fixture["logits"]["base"]["pytorch"], fixture["logits"]["lora"]["pytorch"], atol=1e-2)


def test_a_license_without_a_name_is_refused_before_anything_is_written(tmp_path):
    spec = LoraSpec(rank=2, slots=1, target_modules=["q_proj"])
    with pytest.raises(ValueError, match="'name'"):
        export_pack(None, TOKENIZER_DIR, tmp_path / "pack", "t", "t", spec, [0], {"id": "MIT"}, {"seed": 0})
    assert not (tmp_path / "pack").exists()
