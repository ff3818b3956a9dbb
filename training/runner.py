"""The runner every evaluation answers with: a model, its tokenizer and stop tokens; prompts through the model's own
chat template (or a plain completion prompt), greedy answers with the stop rule, and a hypernetwork's adapter for a
skill. training.bench_skills, training.adapter_ce and training.eval_base use it.

Stop rule: at an end-of-sequence token; and for a one-line answer (the benchmark's every answer; in eval_base every
expected answer without a newline) once a non-blank line has ended, the answer being that first non-blank line. The
browser benchmark stops on the same rule (GenerateParams.stopAtLineEnd).
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from .conversations import load_tokenizer, render_ids
from .export.pack import load_pack_model, lora_spec_of
from .model import Transformer, generate

FORMATS = ("chat", "plain")


def first_line_answer(text: str) -> str:
    """Answers are one line: the first non-empty line is the answer (the decode stops there too)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def line_complete(text: str) -> bool:
    """True once a non-blank line has ended: decoding further cannot change first_line_answer. The browser
    benchmark stops on the same rule (GenerateParams.stopAtLineEnd), and so does eval_base."""
    return "\n" in text.lstrip()


def eos_ids_of(tokenizer, folder: Path) -> set[int]:
    """The stop tokens of a tokenizer folder: its eos token, extra eos tokens, <end_of_turn>, and generation_config's."""
    ids = set()
    config = json.loads((folder / "tokenizer_config.json").read_text())
    for name in [config.get("eos_token"), *config.get("extra_eos_tokens", []), "<end_of_turn>"]:
        if isinstance(name, str):
            i = tokenizer.convert_tokens_to_ids(name)
            if i is not None and i != tokenizer.unk_token_id:
                ids.add(i)
    gen = folder / "generation_config.json"
    if gen.exists():
        e = json.loads(gen.read_text()).get("eos_token_id")
        ids.update(e if isinstance(e, list) else [e] if e is not None else [])
    return ids


class Runner:
    """`prompt_ids(messages)` renders a conversation (a leading system turn is the skill in context) and
    `answer(messages, lora)` decodes greedily to (answer, whether the prompt was cut to the context).

    context 0: prompts are never cut; otherwise a prompt that leaves no room for max_new_tokens keeps its newest
    tokens, as the app does. A runner made from a pack (`from_pack`) has the pack's context, stop tokens and LoRA
    spec; fmt "plain" (for base models that are not instruction-tuned) writes
    "<SKILL.md>\\n\\nUser: ...\\nAssistant: ...\\nUser: ...\\nAssistant:" instead of the chat template."""

    def __init__(self, model: Transformer, tok, eos: set[int], *, fmt: str = "chat", context: int = 0, max_new_tokens: int = 64,
                 manifest: dict | None = None):
        if fmt not in FORMATS:
            raise ValueError(f"prompt format {fmt!r}: one of {FORMATS}")
        self.model, self.tok, self.eos, self.fmt = model, tok, eos, fmt
        self.context, self.max_new, self.manifest = context, max_new_tokens, manifest
        self.lora = lora_spec_of(manifest) if manifest else None  # the pack's LoRA spec (rank, alpha, targets, slots)

    @classmethod
    def from_pack(cls, pack: Path, max_new_tokens: int) -> "Runner":
        model, manifest = load_pack_model(pack)
        return cls(model, load_tokenizer(pack), set(manifest["generation"]["eosTokenIds"]),
                   context=manifest["generation"]["contextLength"], max_new_tokens=max_new_tokens, manifest=manifest)

    def prompt_ids(self, messages: list[dict]) -> list[int]:
        if self.fmt == "plain":
            skill = messages[0]["content"] if messages and messages[0]["role"] == "system" else None
            turns = messages[1:] if skill is not None else messages
            lines = [f"{'User' if m['role'] == 'user' else 'Assistant'}: {m['content']}" for m in turns]
            text = (skill.rstrip() + "\n\n" if skill is not None else "") + "\n".join(lines) + "\nAssistant:"
            return self.tok(text, add_special_tokens=True)["input_ids"]
        return render_ids(self.tok, messages, add_generation_prompt=True)

    def answer(self, messages: list[dict], lora=None, *, one_line: bool = True, max_new_tokens: int | None = None) -> tuple[str, bool]:
        """(answer, truncated): the first non-blank line when one_line (decoding stops there), else the whole
        decoded text, stripped."""
        max_new = self.max_new if max_new_tokens is None else max_new_tokens
        ids = self.prompt_ids(messages)
        truncated = bool(self.context) and len(ids) + max_new > self.context
        if truncated:  # keep the newest tokens, as the app does
            ids = ids[-(self.context - max_new):]
        until = (lambda out: line_complete(self.tok.decode(out, skip_special_tokens=True))) if one_line else None
        out = generate(self.model, ids, max_new, self.eos, lora=lora, until=until)
        text = self.tok.decode(out, skip_special_tokens=True)
        return (first_line_answer(text) if one_line else text.strip()), truncated

    def adapter(self, net, skill_md: str, chunk_tokens: int) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """A hypernetwork's LoRA for one skill (A [L,in,r], B [L,r,out] per module), from the layers it reads (the
        pack's encoder layers unless its config names others)."""
        from .skill_encoder import encode_skill

        ids = self.tok.encode(skill_md, add_special_tokens=False)
        hidden = encode_skill(self.model, ids, self.tok.bos_token_id, net.config.reads_layers(self.manifest), chunk_tokens)
        with torch.no_grad():
            return {m: (a[0], b[0]) for m, (a, b) in net(hidden[None]).items()}
