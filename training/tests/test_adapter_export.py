"""The app's adapter exports, read by the real tools.

The TypeScript exporters (src/adapters/peft.ts, gguf.ts, zip.ts) wrote e2e/fixtures/adapter-export/ for one
fixed adapter on the tiny-random pack, and src/adapters/peft.test.ts checks they still write those bytes
(UPDATE_ADAPTER_FIXTURE=1 npx vitest run src/adapters rewrites them). Here Hugging Face peft, gguf-py and
llama.cpp (through llama-cpp-python) load those files and must agree with our PyTorch model running the same
adapter composed as the browser composes it (src/adapters/slots.ts: alpha / rank * scale folded into B).
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import gguf
import numpy as np
import pytest
import torch
import transformers
from peft import PeftModel
from peft.utils import get_peft_model_state_dict
from safetensors.numpy import load_file

from training.export.pack import load_pack_model
from training.model import Transformer, generate

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "public/models/tiny-random"
FIXTURE = ROOT / "e2e/fixtures/adapter-export"
PROMPT = [1, 3, 45, 97, 200, 13, 7, 311, 64, 5, 128, 77]
GGUF_NAMES = {"q_proj": "attn_q", "k_proj": "attn_k", "v_proj": "attn_v", "o_proj": "attn_output",
              "gate_proj": "ffn_gate", "up_proj": "ffn_up", "down_proj": "ffn_down"}
LOGITS_ATOL = 1e-4


@pytest.fixture(scope="module")
def pack() -> tuple[Transformer, dict]:
    return load_pack_model(PACK)


@pytest.fixture(scope="module")
def source() -> dict:
    """The adapter as the app holds it: per module A [layers, in, rank], B [layers, rank, out], unscaled, and its scale."""
    raw = json.loads((FIXTURE / "adapter.json").read_text())
    return {**raw, "modules": {m: (np.array(p["A"], np.float32), np.array(p["B"], np.float32)) for m, p in raw["modules"].items()}}


def shaped(source: dict, manifest: dict) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    arch, rank = manifest["architecture"], manifest["lora"]["rank"]
    layers = arch["numHiddenLayers"]
    out = {}
    for m, (a, b) in source["modules"].items():
        out[m] = (a.reshape(layers, -1, rank), b.reshape(layers, rank, -1))
    return out


def composed_lora(source: dict, manifest: dict) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """One slot, as src/adapters/slots.ts binds it: alpha / rank * scale folded into B."""
    factor = manifest["lora"]["alpha"] / manifest["lora"]["rank"] * source["scale"]
    return {m: (torch.from_numpy(a), torch.from_numpy(b) * factor) for m, (a, b) in shaped(source, manifest).items()}


def llama_permute(w: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's LlamaModel.permute: Hugging Face's half-split rotary rows to GGML's interleaved pairs."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def test_fixture_is_for_the_committed_pack(source, pack):
    _, manifest = pack
    weights = next(f for f in manifest["files"] if f["role"] == "weights")
    assert (source["packId"], source["packSha256"]) == (manifest["id"], weights["sha256"]), \
        "the pack changed: rewrite the fixture with UPDATE_ADAPTER_FIXTURE=1 npx vitest run src/adapters"


# --- (a) Hugging Face peft ---------------------------------------------------------------------------------

def hf_llama(model: Transformer, manifest: dict) -> transformers.LlamaForCausalLM:
    a = manifest["architecture"]
    config = transformers.LlamaConfig(
        vocab_size=a["vocabSize"], hidden_size=a["hiddenSize"], intermediate_size=a["intermediateSize"],
        num_hidden_layers=a["numHiddenLayers"], num_attention_heads=a["numAttentionHeads"], num_key_value_heads=a["numKeyValueHeads"],
        head_dim=a["headDim"], rope_theta=a["ropeTheta"], rms_norm_eps=a["rmsNormEps"], max_position_embeddings=a["maxPositionEmbeddings"],
        tie_word_embeddings=a["tieWordEmbeddings"], attention_bias=a["attentionBias"], hidden_act=a["hiddenAct"],
    )
    hf = transformers.LlamaForCausalLM(config)
    missing, unexpected = hf.load_state_dict(model.state_dict(), strict=False)
    assert not unexpected and set(missing) <= {"lm_head.weight"}, (missing, unexpected)
    hf.tie_weights()
    return hf.eval()


def test_peft_loads_our_adapter_with_every_tensor(pack):
    model, manifest = pack
    peft_model = PeftModel.from_pretrained(hf_llama(model, manifest), FIXTURE)
    config = peft_model.peft_config["default"]
    assert (config.r, config.lora_alpha, sorted(config.target_modules)) == (4, 8, ["down_proj", "q_proj", "v_proj"])
    # save_embedding_layers=False: the default looks the base model up on the Hub to check its vocabulary.
    loaded = {k: v.numpy() for k, v in get_peft_model_state_dict(peft_model, save_embedding_layers=False).items()}
    saved = load_file(FIXTURE / "adapter_model.safetensors")
    assert loaded.keys() == saved.keys()
    for k in saved:
        np.testing.assert_array_equal(loaded[k], saved[k], err_msg=k)


def test_peft_logits_equal_our_model_with_the_adapter_composed(pack, source):
    model, manifest = pack
    ids = torch.tensor([PROMPT])
    peft_model = PeftModel.from_pretrained(hf_llama(model, manifest), FIXTURE)
    with torch.no_grad():
        want, _, _ = model(ids, lora=composed_lora(source, manifest), all_logits=True)
        base, _, _ = model(ids, all_logits=True)
        got = peft_model(ids).logits
    diff = (got - want).abs().max().item()
    print(f"peft vs ours: max |logit diff| {diff:.2e}; adapter moves logits by {(want - base).abs().max().item():.2f}")
    assert (want - base).abs().max() > 0.1, "the fixture adapter should change the model"
    assert diff < LOGITS_ATOL


def test_zip_holds_the_two_peft_files():
    with zipfile.ZipFile(FIXTURE / "adapter-peft.zip") as z:
        assert z.testzip() is None  # every CRC checks out
        assert z.namelist() == ["adapter_config.json", "adapter_model.safetensors"]
        for name in z.namelist():
            assert z.read(name) == (FIXTURE / name).read_bytes()


# --- (b) gguf-py's GGUFReader -------------------------------------------------------------------------------

@pytest.mark.parametrize("file,arch", [("adapter.gguf", "llama"), ("adapter-gemma3.gguf", "gemma3")])
def test_gguf_reader_reads_metadata_and_tensors(source, pack, file, arch):
    _, manifest = pack
    a, lora = manifest["architecture"], manifest["lora"]
    reader = gguf.GGUFReader(FIXTURE / file)
    fields = {k: reader.fields[k].contents() for k in ("GGUF.version", "general.architecture", "general.type", "adapter.type", "adapter.lora.alpha")}
    assert fields == {"GGUF.version": 3, "general.architecture": arch, "general.type": "adapter", "adapter.type": "lora", "adapter.lora.alpha": lora["alpha"]}
    assert reader.alignment == 32
    tensors = {t.name: t for t in reader.tensors}
    assert len(tensors) == a["numHiddenLayers"] * len(lora["targetModules"]) * 2
    heads = {"q_proj": a["numAttentionHeads"], "k_proj": a["numKeyValueHeads"]} if arch == "llama" else {}
    for m, (A, B) in shaped(source, manifest).items():
        for layer in range(a["numHiddenLayers"]):
            ta, tb = (tensors[f"blk.{layer}.{GGUF_NAMES[m]}.weight.lora_{h}"] for h in "ab")
            assert ta.tensor_type == tb.tensor_type == gguf.GGMLQuantizationType.F32
            # ggml ne order: lora_a [in, r], lora_b [r, out], as convert_lora_to_gguf.py writes them.
            assert list(ta.shape) == [A.shape[1], lora["rank"]] and list(tb.shape) == [lora["rank"], B.shape[2]]
            want_b = (B[layer] * np.float32(source["scale"])).T
            if m in heads:
                want_b = llama_permute(want_b, heads[m])
            np.testing.assert_array_equal(ta.data, A[layer].T)
            np.testing.assert_array_equal(tb.data, want_b)


# --- (c) llama.cpp ------------------------------------------------------------------------------------------

def write_llama_gguf(model: Transformer, manifest: dict, path: Path) -> None:
    """The tiny-random pack as an F32 llama GGUF with its byte-level BPE tokenizer, as convert_hf_to_gguf.py would write it."""
    a = manifest["architecture"]
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name(manifest["id"])
    w.add_context_length(a["maxPositionEmbeddings"])
    w.add_embedding_length(a["hiddenSize"])
    w.add_block_count(a["numHiddenLayers"])
    w.add_feed_forward_length(a["intermediateSize"])
    w.add_head_count(a["numAttentionHeads"])
    w.add_head_count_kv(a["numKeyValueHeads"])
    w.add_key_length(a["headDim"])
    w.add_value_length(a["headDim"])
    w.add_rope_dimension_count(a["headDim"])
    w.add_rope_freq_base(a["ropeTheta"])
    w.add_layer_norm_rms_eps(a["rmsNormEps"])
    w.add_vocab_size(a["vocabSize"])
    w.add_file_type(gguf.LlamaFileType.ALL_F32)

    tok = json.loads((PACK / "tokenizer.json").read_text())
    tokens = [""] * a["vocabSize"]
    types = [gguf.TokenType.NORMAL] * a["vocabSize"]
    for text, i in tok["model"]["vocab"].items():
        tokens[i] = text
    for t in tok["added_tokens"]:
        tokens[t["id"]], types[t["id"]] = t["content"], gguf.TokenType.CONTROL
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in tok["model"]["merges"]])
    w.add_eos_token_id(manifest["generation"]["eosTokenIds"][0])

    state = {k: v.float().numpy() for k, v in model.state_dict().items()}
    w.add_tensor("token_embd.weight", state["model.embed_tokens.weight"])
    w.add_tensor("output_norm.weight", state["model.norm.weight"])
    if not a["tieWordEmbeddings"]:
        w.add_tensor("output.weight", state["lm_head.weight"])
    for layer in range(a["numHiddenLayers"]):
        p = f"model.layers.{layer}."
        w.add_tensor(f"blk.{layer}.attn_norm.weight", state[p + "input_layernorm.weight"])
        w.add_tensor(f"blk.{layer}.ffn_norm.weight", state[p + "post_attention_layernorm.weight"])
        w.add_tensor(f"blk.{layer}.attn_q.weight", llama_permute(state[p + "self_attn.q_proj.weight"], a["numAttentionHeads"]))
        w.add_tensor(f"blk.{layer}.attn_k.weight", llama_permute(state[p + "self_attn.k_proj.weight"], a["numKeyValueHeads"]))
        for m in ("v_proj", "o_proj"):
            w.add_tensor(f"blk.{layer}.{GGUF_NAMES[m]}.weight", state[p + f"self_attn.{m}.weight"])
        for m in ("gate_proj", "up_proj", "down_proj"):
            w.add_tensor(f"blk.{layer}.{GGUF_NAMES[m]}.weight", state[p + f"mlp.{m}.weight"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def llama_cpp_greedy(llm, prompt: list[int], steps: int) -> tuple[np.ndarray, list[int]]:
    """Prompt logits [T, vocab] and `steps` greedy tokens, from one llama.cpp context."""
    llm.reset()
    llm.eval(prompt)
    prompt_logits = np.array(llm.scores[: len(prompt)])
    out: list[int] = []
    for _ in range(steps):
        out.append(int(np.argmax(llm.scores[llm.n_tokens - 1])))
        llm.eval([out[-1]])
    return prompt_logits, out


def test_llama_cpp_with_our_lora_gives_our_greedy_tokens(pack, source, tmp_path):
    llama_cpp = pytest.importorskip(
        "llama_cpp",
        reason="llama-cpp-python is not installed (requirements.txt pins it; pip compiles llama.cpp from source, "
               "about 16 minutes on 2 busy cores, then reuses the cached wheel)",
    )
    model, manifest = pack
    base = tmp_path / "tiny-random-f32.gguf"
    write_llama_gguf(model, manifest, base)
    lora = composed_lora(source, manifest)
    steps = 12
    with torch.no_grad():
        want_logits, _, _ = model(torch.tensor([PROMPT]), lora=lora, all_logits=True)
        base_logits, _, _ = model(torch.tensor([PROMPT]), all_logits=True)
    want_tokens = generate(model, PROMPT, steps, eos_ids=set(), lora=lora)
    base_tokens = generate(model, PROMPT, steps, eos_ids=set())

    # An F32 KV cache (llama.cpp's default is F16, which alone moves logits by ~1e-3) makes a 1e-4 comparison fair.
    f32 = llama_cpp.GGML_TYPE_F32
    common = dict(n_ctx=64, n_batch=64, n_threads=1, logits_all=True, verbose=False, seed=0, type_k=f32, type_v=f32)
    plain = llama_cpp.Llama(model_path=str(base), **common)
    got_base_logits, got_base_tokens = llama_cpp_greedy(plain, PROMPT, steps)
    adapted = llama_cpp.Llama(model_path=str(base), lora_path=str(FIXTURE / "adapter.gguf"), **common)
    got_logits, got_tokens = llama_cpp_greedy(adapted, PROMPT, steps)

    base_diff = np.abs(got_base_logits - base_logits[0].numpy()).max()
    lora_diff = np.abs(got_logits - want_logits[0].numpy()).max()
    print(f"llama.cpp vs ours: max |logit diff| base {base_diff:.2e}, with LoRA {lora_diff:.2e}; "
          f"tokens base {got_base_tokens}, with LoRA {got_tokens}")
    assert got_base_tokens == base_tokens, "the GGUF base itself must match before the adapter is judged"
    assert want_tokens != base_tokens, "the fixture adapter should change the greedy tokens"
    assert got_tokens == want_tokens
    assert lora_diff < LOGITS_ATOL
