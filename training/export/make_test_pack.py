"""Make the small randomly initialised pack that tests use, and its reference fixture.

python -m training.export.make_test_pack --out public/models/tiny-random --fixture e2e/fixtures/tiny-random.json

The fixture holds a prompt, a random non-zero LoRA and the logits that our PyTorch model and
Hugging Face transformers (same weights, LoRA merged into them) give for it: the browser
engines are tested against these numbers.
"""
from __future__ import annotations

import argparse
import inspect
import json
import tempfile
from pathlib import Path

import torch
import transformers

from ..hypernet import HypernetConfig, Hypernetwork, compose_slots, save_hypernet
from ..model import LoraSpec, ModelConfig, Transformer, generate, init_weights
from ..skill_encoder import encode_skill
from ..tokenizer import BOS, train_bpe
from .pack import export_pack, random_lora

CONFIG = ModelConfig(
    type="llama", vocab_size=512, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
    head_dim=16, intermediate_size=128, max_position_embeddings=512, rms_norm_eps=1e-5, tie_word_embeddings=True,
)
LORA = LoraSpec(rank=4, alpha=8.0, target_modules=["q_proj", "v_proj", "down_proj"], slots=4)
ENCODER_LAYERS = [0, 1]
HYPERNET = dict(d_model=32, num_heads=4, mlp_hidden=64)
SKILL = """---
name: branch-names
description: How we name git branches.
---
Branch names are `<type>/<ticket>-<slug>`: type is feat, fix or chore; the slug is lower-case words joined by hyphens.
"""
CHUNK_TOKENS = 24  # tiny on purpose: the fixture skill spans several chunks, as long skills do
MESSAGES = [{"role": "user", "content": "Write a branch name for: fix login timeout"}]


def corpus() -> list[str]:
    """Deterministic English-and-code text from the standard library's docstrings."""
    import collections, json as js, os, pathlib, re, string, textwrap  # noqa: E401

    texts = []
    for mod in (collections, js, os, pathlib, re, string, textwrap, inspect):
        for _, obj in sorted(vars(mod).items()):
            doc = inspect.getdoc(obj)
            if isinstance(doc, str):
                texts.append(doc)
    return texts


def transformers_reference(model: Transformer, lora: dict | None, ids: torch.Tensor) -> torch.Tensor:
    """Last-position logits from transformers' LlamaForCausalLM with the LoRA merged into its weights."""
    c = model.config
    hf = transformers.LlamaForCausalLM(transformers.LlamaConfig(
        vocab_size=c.vocab_size, hidden_size=c.hidden_size, intermediate_size=c.intermediate_size,
        num_hidden_layers=c.num_hidden_layers, num_attention_heads=c.num_attention_heads,
        num_key_value_heads=c.num_key_value_heads, head_dim=c.head_dim, rms_norm_eps=c.rms_norm_eps,
        max_position_embeddings=c.max_position_embeddings, rope_theta=c.rope_theta, tie_word_embeddings=True,
    ))
    hf.load_state_dict(model.state_dict(), strict=False)
    hf.tie_weights()
    with torch.no_grad():
        for module, (a, b) in (lora or {}).items():
            for i, layer in enumerate(hf.model.layers):
                parent = layer.self_attn if module.endswith(("q_proj", "k_proj", "v_proj", "o_proj")) else layer.mlp
                getattr(parent, module).weight += (a[i] @ b[i]).T
        return hf(ids).logits[0, -1]


def write_hypernet_fixture(model: Transformer, hypernet: Hypernetwork, tok, prompt_ids: list[int], path: Path) -> None:
    """Skill text -> encoder states -> hypernetwork -> LoRA -> logits, every stage recorded for the browser tests."""
    skill_ids = tok.encode(SKILL).ids
    hidden = encode_skill(model, skill_ids, tok.token_to_id(BOS), ENCODER_LAYERS, CHUNK_TOKENS)
    with torch.no_grad():
        pooled = hypernet.pool(hidden[None])[0]
        lora = {m: (a[0], b[0]) for m, (a, b) in hypernet(hidden[None]).items()}
        stacked = compose_slots([lora], [1.0], LORA)
        logits, _, _ = model(torch.tensor([prompt_ids]), lora=stacked)
    flat = lambda t: [round(float(v), 7) for v in t.flatten()]  # noqa: E731
    path.write_text(json.dumps({
        "skill": SKILL,
        "skillIds": skill_ids,
        "chunkTokens": CHUNK_TOKENS,
        "encoderHidden": {"shape": list(hidden.shape), "data": flat(hidden)},
        "pooled": {"shape": list(pooled.shape), "data": flat(pooled)},
        "lora": {m: {"A": flat(a), "B": flat(b), "shapeA": list(a.shape), "shapeB": list(b.shape)} for m, (a, b) in lora.items()},
        "promptIds": prompt_ids,
        "logitsWithAdapter": flat(logits[0, -1]),
    }) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=Path("public/models/tiny-random"))
    ap.add_argument("--fixture", type=Path, default=Path("e2e/fixtures/tiny-random.json"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        tok = train_bpe(corpus(), CONFIG.vocab_size, Path(tmp))
        model = Transformer(CONFIG)
        init_weights(model, args.seed, std=0.08)
        model.eval()
        # A random hypernetwork with non-zero B heads, so the browser path is tested on real numbers.
        torch.manual_seed(args.seed + 2)
        hypernet = Hypernetwork(HypernetConfig.for_base(CONFIG, LORA, num_encoder_layers=len(ENCODER_LAYERS), **HYPERNET)).eval()
        with torch.no_grad():
            for head in hypernet.head_b:
                head.weight.normal_(0, 0.05)
            # Off their init values, so a dropped norm weight or a wrong layer mix cannot pass the tests.
            hypernet.layer_mix.normal_(0, 1.0)
            for norm in (hypernet.in_norm, hypernet.mlp_norm, hypernet.out_norm):
                norm.uniform_(0.5, 1.5)
        hypernet_file = Path(tmp) / "hypernet.safetensors"
        save_hypernet(hypernet, hypernet_file, CHUNK_TOKENS, {"seed": args.seed, "kind": "random-init"})
        export_pack(
            model, Path(tmp), args.out, pack_id="tiny-random", name="Tiny random (tests)",
            lora=LORA, encoder_layers=ENCODER_LAYERS, extra_files=[hypernet_file],
            license_info={"name": "MIT", "note": "Random weights made by this project for tests."},
            provenance={"seed": args.seed, "kind": "random-init"},
        )
    # transformers renders the pack's chat template: the browser (transformers.js) must give the same ids.
    hf_tok = transformers.AutoTokenizer.from_pretrained(args.out)
    ids = list(hf_tok.apply_chat_template(MESSAGES, add_generation_prompt=True, tokenize=True, return_dict=False))
    lora = random_lora(CONFIG, LORA, seed=args.seed + 1)
    x = torch.tensor([ids])
    with torch.no_grad():
        base, _, _ = model(x)
        adapted, _, _ = model(x, lora=lora)
    eos = {tok.token_to_id("<|im_end|>"), tok.token_to_id("<|endoftext|>")}
    fixture = {
        "pack": "tiny-random",
        "messages": MESSAGES,
        "inputIds": ids,
        "lora": {m: {"A": a.flatten().tolist(), "B": b.flatten().tolist(), "shapeA": list(a.shape), "shapeB": list(b.shape)} for m, (a, b) in lora.items()},
        "logits": {
            "base": {"pytorch": base[0, -1].tolist(), "transformers": transformers_reference(model, None, x).tolist()},
            "lora": {"pytorch": adapted[0, -1].tolist(), "transformers": transformers_reference(model, lora, x).tolist()},
        },
        "greedy": {"base": generate(model, ids, 12, eos), "lora": generate(model, ids, 12, eos, lora=lora)},
    }
    args.fixture.parent.mkdir(parents=True, exist_ok=True)
    args.fixture.write_text(json.dumps(fixture) + "\n")
    write_hypernet_fixture(model, hypernet, tok, ids, args.fixture.with_name("tiny-random-hypernet.json"))
    print(f"wrote {args.out} and {args.fixture}")


if __name__ == "__main__":
    main()
