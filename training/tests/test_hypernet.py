"""Hypernetwork shapes, initial state, masking, slot composition and the file format."""
import tempfile
from pathlib import Path

import torch

from training.hypernet import HypernetConfig, Hypernetwork, compose_slots, load_hypernet, save_hypernet
from training.model import LoraSpec, ModelConfig, Transformer, init_weights

BASE = ModelConfig(vocab_size=64, hidden_size=32, num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2,
                   head_dim=8, intermediate_size=48)
LORA = LoraSpec(rank=4, alpha=8.0, target_modules=["q_proj", "v_proj", "down_proj"], slots=3)


def make(seed=0, random_b=True) -> Hypernetwork:
    torch.manual_seed(seed)
    h = Hypernetwork(HypernetConfig.for_base(BASE, LORA, num_encoder_layers=2, d_model=32, num_heads=4, mlp_hidden=64))
    if random_b:
        with torch.no_grad():
            for head in h.head_b:
                head.weight.normal_(0, 0.05)
    return h.eval()


def test_shapes_and_zero_b_at_init():
    h = make(random_b=False)
    out = h(torch.randn(2, 2, 7, 32))
    for m, (a, b) in out.items():
        fan_in, fan_out = BASE.module_shape(m)
        assert a.shape == (2, 3, fan_in, 4) and b.shape == (2, 3, 4, fan_out)
        assert torch.count_nonzero(b) == 0 and a.abs().mean() > 0


def test_padding_mask_equals_unpadded_skill():
    h = make()
    x = torch.randn(1, 2, 5, 32)
    padded = torch.cat([x, torch.randn(1, 2, 3, 32) * 100], dim=2)
    mask = torch.tensor([[1] * 5 + [0] * 3])
    with torch.no_grad():
        want, got = h(x), h(padded, mask)
    for m in want:
        assert torch.allclose(want[m][1], got[m][1], atol=1e-5)


def test_compose_slots_equals_sum_of_scaled_deltas():
    base = Transformer(BASE)
    init_weights(base, 0, std=0.1)
    h = make()
    with torch.no_grad():
        adapters = [{m: (a[0], b[0]) for m, (a, b) in h(torch.randn(1, 2, 6, 32)).items()} for _ in range(2)]
    scales = [1.0, 0.5]
    stacked = compose_slots(adapters, scales, LORA)
    x = torch.randn(4, 32)
    for m, (a, b) in stacked.items():
        want = sum(s * (LORA.alpha / LORA.rank) * (x @ ad[m][0][1] @ ad[m][1][1]) for ad, s in zip(adapters, scales)) if m != "down_proj" else None
        if want is not None:
            assert torch.allclose(x @ a[1] @ b[1], want, atol=1e-5)
        assert torch.count_nonzero(a[:, :, 2 * LORA.rank:]) == 0  # the third slot is unused


def test_file_round_trip():
    h = make()
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "hypernet.safetensors"
        save_hypernet(h, path, 64, {"seed": 0})
        again = load_hypernet(path)
    x = torch.randn(1, 2, 4, 32)
    with torch.no_grad():
        for m, (a, b) in h(x).items():
            a2, b2 = again(x)[m]
            assert torch.equal(a, a2) and torch.equal(b, b2)


def test_half_precision_file_holds_the_rounded_weights():
    """A float16 file is half the size and loads as the fp16-rounded weights, whatever reads it (the app widens too)."""
    from safetensors import safe_open

    h = make()
    with tempfile.TemporaryDirectory() as d:
        full, half = Path(d) / "f32.safetensors", Path(d) / "f16.safetensors"
        save_hypernet(h, full, 64, {"seed": 0})
        save_hypernet(h, half, 64, {"seed": 0}, dtype=torch.float16)
        assert half.stat().st_size < 0.55 * full.stat().st_size
        with safe_open(str(half), "pt") as f:
            assert all(f.get_tensor(k).dtype == torch.float16 for k in f.keys())
        again = load_hypernet(half)
    rounded = make()
    with torch.no_grad():
        for p in rounded.parameters():
            p.copy_(p.half().float())
    x = torch.randn(1, 2, 4, 32)
    with torch.no_grad():
        for m, (a, b) in rounded(x).items():
            a2, b2 = again(x)[m]
            assert torch.equal(a, a2) and torch.equal(b, b2)


def test_half_hypernet_keeps_config_and_records_its_source():
    """The float16 rewrite of a trained file: same config and chunk length, the fp16-rounded weights (adapters within
    fp16 rounding of the float32 file's), provenance naming the source; refuses to overwrite its source."""
    import json

    import pytest
    from safetensors import safe_open

    from training.export.half_hypernet import half_hypernet
    from training.export.pack import sha256_file

    h = make()
    with tempfile.TemporaryDirectory() as d:
        full, half = Path(d) / "f32.safetensors", Path(d) / "out" / "f16.safetensors"
        save_hypernet(h, full, 64, {"seed": 3})
        info = half_hypernet(full, half)
        assert info["bytes"] < 0.55 * info["from_bytes"]
        with safe_open(str(half), "pt") as f:
            meta = f.metadata()
            assert all(f.get_tensor(k).dtype == torch.float16 for k in f.keys())
        with safe_open(str(full), "pt") as f:
            assert json.loads(meta["config"]) == json.loads(f.metadata()["config"]) and meta["chunkTokens"] == "64"
        prov = json.loads(meta["provenance"])
        assert prov["seed"] == 3 and prov["converted"] == {"to": "float16", "from_sha256": sha256_file(full)}
        again = load_hypernet(half)
        with pytest.raises(ValueError, match="another path"):
            half_hypernet(full, full)
    x = torch.randn(1, 2, 4, 32)
    with torch.no_grad():
        for m, (a, b) in h(x).items():
            a2, b2 = again(x)[m]
            delta, delta2 = a[0, 0] @ b[0, 0], a2[0, 0] @ b2[0, 0]
            assert not torch.equal(delta, delta2)  # the weights were rounded
            assert torch.allclose(delta, delta2, rtol=0, atol=5e-3 * delta.abs().max())


def test_half_hypernet_refuses_a_weight_past_float16():
    import pytest

    from training.export.half_hypernet import half_hypernet

    h = make()
    with torch.no_grad():
        h.head_b[0].weight[0, 0] = 1e5
    with tempfile.TemporaryDirectory() as d:
        full = Path(d) / "f32.safetensors"
        save_hypernet(h, full, 64, {"seed": 0})
        with pytest.raises(ValueError, match="overflows float16"):
            half_hypernet(full, Path(d) / "f16.safetensors")


def assert_same_outputs(h: Hypernetwork, again: Hypernetwork) -> None:
    x = torch.randn(2, 2, 5, 32)
    with torch.no_grad():
        for m, (a, b) in h(x).items():
            a2, b2 = again(x)[m]
            assert torch.equal(a, a2) and torch.equal(b, b2)


def make_biased(seed=0) -> Hypernetwork:
    torch.manual_seed(seed)
    h = Hypernetwork(HypernetConfig.for_base(BASE, LORA, num_encoder_layers=2, d_model=32, num_heads=4, mlp_hidden=64, bias_rank=1))
    with torch.no_grad():
        for head in h.head_b:
            head.weight.normal_(0, 0.05)
        for p in h.bias_b:
            p.normal_(0, 0.05)
    return h.eval()


def test_bias_rank_is_the_same_for_every_skill_and_the_rest_is_generated():
    h = make_biased()
    with torch.no_grad():
        out = h(torch.randn(3, 2, 6, 32))
    for m, (a, b) in out.items():
        fan_in, fan_out = BASE.module_shape(m)
        assert a.shape == (3, 3, fan_in, 4) and b.shape == (3, 3, 4, fan_out)
        # Component 0 (the bias LoRA) is equal across the three skills; the generated components are not.
        assert torch.equal(a[0, ..., :1], a[2, ..., :1]) and torch.equal(b[0, :, :1], b[2, :, :1])
        assert not torch.allclose(a[0, ..., 1:], a[2, ..., 1:]) and not torch.allclose(b[0, :, 1:], b[2, :, 1:])


def test_generated_size_is_the_size_of_the_generated_weight_change():
    h = make_biased()
    with torch.no_grad():
        out = h(torch.randn(2, 2, 6, 32))
        got = h.generated_size(out)
    # Directly: the dense product of the generated components, per adapter, layer and module.
    want = torch.stack([(a[..., 1:] @ b[..., 1:, :]).pow(2).mean((-2, -1)) for a, b in out.values()]).mean()
    assert torch.allclose(got, want, rtol=1e-5)
    # Without a bias rank the whole adapter counts.
    h0 = make()
    with torch.no_grad():
        out0 = h0(torch.randn(2, 2, 6, 32))
        want0 = torch.stack([(a @ b).pow(2).mean((-2, -1)) for a, b in out0.values()]).mean()
        assert torch.allclose(h0.generated_size(out0), want0, rtol=1e-5)


def test_bias_rank_file_is_version_2_and_the_pack_refuses_it(tmp_path):
    import pytest

    from training.export.add_hypernet import add_hypernet

    h = make_biased()
    save_hypernet(h, tmp_path / "h.safetensors", chunk_tokens=64, provenance={})
    from safetensors import safe_open
    with safe_open(str(tmp_path / "h.safetensors"), "pt") as f:
        assert f.metadata()["formatVersion"] == "2"
    assert_same_outputs(h, load_hypernet(tmp_path / "h.safetensors"))
    with pytest.raises(ValueError, match="version 1 only"):
        add_hypernet(tmp_path, tmp_path / "h.safetensors")
    with pytest.raises(ValueError, match="bias_rank must be in"):
        Hypernetwork(HypernetConfig.for_base(BASE, LORA, num_encoder_layers=2, bias_rank=4))


def make_atoms(seed=0, bias_rank=0, random_b=True) -> Hypernetwork:
    torch.manual_seed(seed)
    h = Hypernetwork(HypernetConfig.for_base(BASE, LORA, num_encoder_layers=2, d_model=32, num_heads=4, mlp_hidden=64,
                                             head="atoms", num_atoms=5, bias_rank=bias_rank))
    if random_b:
        with torch.no_grad():
            for head in h.coef_b:
                head.weight.normal_(0, 0.5)
            for p in getattr(h, "bias_b", []):
                p.normal_(0, 0.05)
    return h.eval()


def test_atoms_start_at_b_zero_and_mix_the_atoms_by_the_coefficient_heads():
    fresh = make_atoms(random_b=False)
    x = torch.randn(2, 2, 7, 32)
    with torch.no_grad():
        out = fresh(x)
        ab = make()(x)
    for m, (a, b) in out.items():
        fan_in, fan_out = BASE.module_shape(m)
        assert a.shape == (2, 3, fan_in, 4) and b.shape == (2, 3, 4, fan_out)
        assert torch.count_nonzero(b) == 0
        # A starts at the ab heads' scale (a random projection of about unit scale), not at zero or blown up.
        assert 0.5 < a.std() / ab[m][0].std() < 2
    assert all(p.abs().sum() > 0 for p in fresh.atoms_b)  # B's atoms are random, so its coefficients get a gradient

    h = make_atoms()
    with torch.no_grad():
        out = h(x)
        z = h.pool(x)  # [B, N, D], targets layer-major
    n_mod = len(LORA.target_modules)
    for mi, m in enumerate(LORA.target_modules):
        a, b = out[m]
        assert torch.count_nonzero(b) > 0
        for s in range(2):
            for layer in range(3):
                zn = z[s, layer * n_mod + mi]
                c = h.coef_a[mi].weight @ zn + h.coef_a[mi].bias
                d = h.coef_b[mi].weight @ zn + h.coef_b[mi].bias
                want_a = sum(c[k] * h.atoms_a[mi][k] for k in range(5))
                want_b = sum(d[k] * h.atoms_b[mi][k] for k in range(5))
                assert torch.allclose(a[s, layer], want_a, atol=1e-5) and torch.allclose(b[s, layer], want_b, atol=1e-5)


def test_atoms_with_a_bias_rank_share_the_bias_component_across_skills():
    h = make_atoms(bias_rank=1)
    with torch.no_grad():
        out = h(torch.randn(3, 2, 6, 32))
    for mi, (m, (a, b)) in enumerate(out.items()):
        fan_in, fan_out = BASE.module_shape(m)
        assert a.shape == (3, 3, fan_in, 4) and b.shape == (3, 3, 4, fan_out)
        assert h.atoms_a[mi].shape == (5, fan_in, 3) and h.atoms_b[mi].shape == (5, 3, fan_out)
        # Component 0 is the learned bias LoRA, the same for all three skills; the atoms make the other three.
        assert torch.equal(a[0, ..., :1], a[2, ..., :1]) and torch.equal(b[0, :, :1], b[2, :, :1])
        assert torch.equal(a[1, ..., :1], h.bias_a[mi]) and torch.equal(b[1, :, :1], h.bias_b[mi])
        assert not torch.allclose(a[0, ..., 1:], a[2, ..., 1:]) and not torch.allclose(b[0, :, 1:], b[2, :, 1:])


def test_atoms_file_is_version_3_round_trips_and_the_pack_refuses_it(tmp_path):
    import json

    import pytest
    from safetensors import safe_open

    from training.export.add_hypernet import add_hypernet

    h = make_atoms(bias_rank=1)
    save_hypernet(h, tmp_path / "h.safetensors", chunk_tokens=64, provenance={})
    save_hypernet(make(), tmp_path / "ab.safetensors", chunk_tokens=64, provenance={})
    with safe_open(str(tmp_path / "h.safetensors"), "pt") as f:
        assert f.metadata()["formatVersion"] == "3"
        assert not any(k.startswith(("head_a", "head_b")) for k in f.keys())
    with safe_open(str(tmp_path / "ab.safetensors"), "pt") as f:
        # An ab file's config is as before the atoms: the app's version-1 reader sees nothing new.
        assert f.metadata()["formatVersion"] == "1" and not {"head", "num_atoms", "bias_rank", "encoder_layers"} & set(json.loads(f.metadata()["config"]))
    again = load_hypernet(tmp_path / "h.safetensors")
    assert again.config.head == "atoms" and again.config.num_atoms == 5 and again.config.bias_rank == 1
    assert load_hypernet(tmp_path / "ab.safetensors").config.head == "ab"
    assert_same_outputs(h, again)
    with pytest.raises(ValueError, match="version 1 only"):
        add_hypernet(tmp_path, tmp_path / "h.safetensors")
    with pytest.raises(ValueError, match="head must be one of"):
        Hypernetwork(HypernetConfig.for_base(BASE, LORA, num_encoder_layers=2, head="mixture"))


def make_tokens(seed=0, random_gain=True, bias_rank=0) -> Hypernetwork:
    torch.manual_seed(seed)
    # d_model 48 against the base's hidden size 32: a mix-up of the two shows.
    h = Hypernetwork(HypernetConfig.for_base(BASE, LORA, num_encoder_layers=2, d_model=48, num_heads=4, mlp_hidden=64, head="tokens",
                                             bias_rank=bias_rank))
    if random_gain:
        with torch.no_grad():
            for gain in h.tok_gain:
                gain.weight.normal_(0, 0.5)
    return h.eval()


def test_tokens_head_reads_each_component_off_the_skill_tokens():
    fresh = make_tokens(random_gain=False)
    x = torch.randn(2, 2, 7, 32)
    with torch.no_grad():
        for m, (a, b) in fresh(x).items():
            fan_in, fan_out = BASE.module_shape(m)
            assert a.shape == (2, 3, fan_in, 4) and b.shape == (2, 3, 4, fan_out)
            assert torch.count_nonzero(b) == 0 and a.abs().mean() > 0  # starts as the base model

    h = make_tokens()
    mask = torch.tensor([[1] * 7, [1] * 4 + [0] * 3])
    with torch.no_grad():
        out = h(x, mask)
        z = h.pool(x, mask)
        mixed = h.layer_mix.softmax(0)[0] * x[:, 0] + h.layer_mix.softmax(0)[1] * x[:, 1]
        xn = mixed * torch.rsqrt(mixed.pow(2).mean(-1, keepdim=True) + 1e-6) * h.in_norm
        keys = h.tok_k(h.in_proj(xn))
    n_mod = len(LORA.target_modules)
    for mi, m in enumerate(LORA.target_modules):
        a, b = out[m]
        fan_in, fan_out = BASE.module_shape(m)
        for s in range(2):
            n_tok = int(mask[s].sum())
            for layer in range(3):
                n = layer * n_mod + mi
                gain = h.tok_gain[mi].weight @ z[s, n] + h.tok_gain[mi].bias
                for j in range(4):
                    # One softmax attention per component over the skill's real tokens, pooling their normed states.
                    wa = torch.softmax(keys[s, :n_tok] @ h.tok_qa[n, j] / 48 ** 0.5, 0)
                    wb = torch.softmax(keys[s, :n_tok] @ h.tok_qb[n, j] / 48 ** 0.5, 0)
                    want_a = h.tok_pa[mi].weight @ (wa @ xn[s, :n_tok]) / fan_in ** 0.5
                    want_b = gain[j] * (h.tok_pb[mi].weight @ (wb @ xn[s, :n_tok])) / fan_out ** 0.5
                    assert torch.allclose(a[s, layer, :, j], want_a, atol=1e-5)
                    assert torch.allclose(b[s, layer, j], want_b, atol=1e-5)
    # Square maps start as the identity: A's columns are then the pooled token states themselves.
    assert torch.equal(fresh.tok_pa[0].weight, torch.eye(32)) and fresh.tok_pa[2].weight.shape == (48, 32)


def test_tokens_file_is_version_4_and_round_trips(tmp_path):
    import pytest

    from training.export.add_hypernet import add_hypernet

    h = make_tokens(bias_rank=1)
    with torch.no_grad():
        for p in h.bias_b:
            p.normal_(0, 0.05)
        out = h(torch.randn(2, 2, 6, 32))
    for mi, (m, (a, b)) in enumerate(out.items()):
        # Component 0 is the shared bias LoRA, at the scale of the read components (entries ~ 1 / sqrt(in)).
        assert torch.equal(a[0, ..., :1], a[1, ..., :1]) and torch.equal(a[1, ..., :1], h.bias_a[mi])
        assert 0.5 < h.bias_a[mi].std() * BASE.module_shape(m)[0] ** 0.5 < 2
    save_hypernet(h, tmp_path / "h.safetensors", chunk_tokens=64, provenance={})
    again = load_hypernet(tmp_path / "h.safetensors")
    assert again.config.head == "tokens" and again.config.format_version == 4 and again.config.bias_rank == 1
    assert_same_outputs(h, again)
    with pytest.raises(ValueError, match="version 1 only"):
        add_hypernet(tmp_path, tmp_path / "h.safetensors")


def test_two_slots_apply_the_bias_lora_once():
    """Two skills' adapters composed: the dense weight change is the shared bias LoRA once plus each skill's generated
    part (computed here from the parts, not through compose_slots)."""
    h = make_biased()
    with torch.no_grad():
        out = h(torch.randn(2, 2, 6, 32))
    first = {m: (a[0], b[0]) for m, (a, b) in out.items()}
    second = {m: (a[1], b[1]) for m, (a, b) in out.items()}
    lora = LoraSpec(rank=4, alpha=4.0, target_modules=LORA.target_modules, slots=3)
    composed = compose_slots([first, h.without_bias(second)], [1.0, 1.0], lora)
    for m, (a, b) in composed.items():
        a1, b1 = first[m]
        a2, b2 = second[m]
        want = a1[..., :1] @ b1[..., :1, :] + a1[..., 1:] @ b1[..., 1:, :] + a2[..., 1:] @ b2[..., 1:, :]
        assert torch.allclose(a @ b, want, atol=1e-6)
    assert h.without_bias(first) is not first and make().without_bias(first) is first
