"""Render conversations with a pack's own chat template and mark the assistant answer tokens to train on."""
from __future__ import annotations

from pathlib import Path

from transformers import AutoTokenizer, PreTrainedTokenizerBase


def load_tokenizer(pack_dir: str | Path) -> PreTrainedTokenizerBase:
    return AutoTokenizer.from_pretrained(str(pack_dir))


def render_ids(tok: PreTrainedTokenizerBase, messages: list[dict], add_generation_prompt: bool) -> list[int]:
    clean = [{"role": m["role"], "content": m["content"]} for m in messages]
    return list(tok.apply_chat_template(clean, add_generation_prompt=add_generation_prompt, tokenize=True, return_dict=False))


def with_skill(messages: list[dict], skill_md: str) -> list[dict]:
    """The skill in context: a system turn (templates without a system role fold it into the first user turn)."""
    return [{"role": "system", "content": skill_md}, *messages]


def encode_conversation(tok: PreTrainedTokenizerBase, messages: list[dict]) -> tuple[list[int], list[bool]]:
    """Token ids of the whole conversation and a mask of the answer tokens of assistant turns marked
    `target` (default True), end-of-turn token included, so the model learns where to stop.

    Each answer span is what the template adds between the prompt that opens the assistant turn and the
    conversation that includes it: this holds for any template whose earlier turns render the same
    whatever follows (ChatML, Gemma)."""
    ids = render_ids(tok, messages, add_generation_prompt=False)
    mask = [False] * len(ids)
    for i, m in enumerate(messages):
        if m["role"] != "assistant" or not m.get("target", True):
            continue
        start = len(render_ids(tok, messages[:i], add_generation_prompt=True))
        upto = render_ids(tok, messages[: i + 1], add_generation_prompt=False)
        if ids[: len(upto)] != upto:
            raise ValueError("the chat template renders earlier turns differently once later ones follow")
        for j in range(start, len(upto)):
            mask[j] = True
    return ids, mask
