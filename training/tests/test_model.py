"""Our PyTorch model against Hugging Face transformers' own implementations on the same weights."""
import tempfile

import pytest
import torch
import transformers

from training.hf_checkpoint import load_checkpoint
from training.model import LoraSpec, zero_lora

TINY = dict(vocab_size=300, hidden_size=64, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=128)


def hf_model(kind: str):
    torch.manual_seed(0)
    if kind == "llama":
        cfg = transformers.LlamaConfig(**TINY, head_dim=16, tie_word_embeddings=False)
        model = transformers.LlamaForCausalLM(cfg)
    elif kind == "qwen2":
        cfg = transformers.Qwen2Config(**TINY, tie_word_embeddings=True)
        model = transformers.Qwen2ForCausalLM(cfg)
    else:
        cfg = transformers.Gemma3TextConfig(**TINY, head_dim=32, sliding_window=4, query_pre_attn_scalar=24,
                                            layer_types=["sliding_attention", "full_attention", "sliding_attention"],
                                            final_logit_softcapping=30.0)
        model = transformers.Gemma3ForCausalLM(cfg)
    # Random norms and biases too, so an offset or a missing bias cannot hide.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name or name.endswith("bias"):
                p.normal_(0, 0.5)
    return model.eval()


def ours_and_reference(kind: str):
    """Our model loaded from the checkpoint transformers saves (exact Hugging Face layout), and transformers' own."""
    ref = hf_model(kind)
    with tempfile.TemporaryDirectory() as d:
        ref.save_pretrained(d)
        return load_checkpoint(d), ref


@pytest.mark.parametrize("kind", ["llama", "qwen2", "gemma3"])
def test_logits_match_transformers(kind):
    ours, ref = ours_and_reference(kind)
    ids = torch.tensor([[1, 5, 9, 42, 7, 100, 3, 250, 17, 8]])
    with torch.no_grad():
        want = ref(ids).logits
        got, _, _ = ours(ids, all_logits=True)
    assert torch.allclose(got, want, atol=1e-4, rtol=1e-4), (got - want).abs().max()


@pytest.mark.parametrize("kind", ["llama", "gemma3"])
def test_kv_cache_decode_equals_full_forward(kind):
    ours, ref = ours_and_reference(kind)
    ids = torch.tensor([[3, 1, 4, 1, 5, 9, 2, 6, 5, 3]])
    spec = LoraSpec(rank=2, slots=2, target_modules=["q_proj", "v_proj", "down_proj"])
    g = torch.Generator().manual_seed(1)
    lora = {m: (torch.randn(a.shape, generator=g) * 0.1, torch.randn(b.shape, generator=g) * 0.1)
            for m, (a, b) in zero_lora(ours.config, spec).items()}
    with torch.no_grad():
        full, _, _ = ours(ids, lora=lora, all_logits=True)
        _, past, _ = ours(ids[:, :6], lora=lora)
        steps = []
        for t in range(6, 10):
            logits, past, _ = ours(ids[:, t:t + 1], past=past, lora=lora)
            steps.append(logits[:, -1])
    assert torch.allclose(torch.stack(steps, 1), full[:, 6:], atol=1e-5)


def test_lora_matches_explicit_weight_update():
    ours, ref = ours_and_reference("llama")
    spec = LoraSpec(rank=3, slots=1, target_modules=["q_proj"])
    a, b = zero_lora(ours.config, spec)["q_proj"]
    g = torch.Generator().manual_seed(2)
    a, b = torch.randn(a.shape, generator=g) * 0.2, torch.randn(b.shape, generator=g) * 0.2
    ids = torch.tensor([[5, 6, 7, 8]])
    with torch.no_grad():
        got, _, _ = ours(ids, lora={"q_proj": (a, b)}, all_logits=True)
        for i, layer in enumerate(ref.model.layers):
            layer.self_attn.q_proj.weight += (a[i] @ b[i]).T
        want = ref(ids).logits
    assert torch.allclose(got, want, atol=1e-4)


def test_encode_only_stops_after_the_last_encoder_layer_with_the_same_states():
    """encode_only gives the hidden states of a full forward, and runs no layer after the last encoder layer."""
    from training.model import ModelConfig, Transformer, init_weights

    torch.manual_seed(0)
    cfg = ModelConfig(vocab_size=50, hidden_size=16, num_hidden_layers=4, num_attention_heads=2, num_key_value_heads=1,
                      head_dim=8, intermediate_size=24)
    model = Transformer(cfg)
    init_weights(model, seed=0)
    ids = torch.randint(0, 50, (1, 9))
    _, _, full = model(ids, encoder_layers=[0, 2])
    logits, presents, early = model(ids, encoder_layers=[0, 2], encode_only=True)
    assert logits is None and len(presents) == 3 and torch.equal(early, full)
