"""Conversations that exercise a skill, with gold answers from the family's program.

Messages are {"role": "user" | "assistant", "content": str}; assistant messages also carry
"target": True when their content is a gold answer the loss and the evaluation aim at, and False
for a deliberately wrong answer that a later user turn corrects. The skill text never appears in a
user turn: it reaches the model separately (in context for the teacher, as an adapter for the student).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .base import Family, Params

Message = dict[str, Any]
Avoid = Callable[[str], bool] | None  # true for inputs a conversation must not use

KINDS = ("single", "multi", "followup", "correction")
KIND_WEIGHTS = (0.4, 0.25, 0.2, 0.15)

_FOLLOW_UPS = ("And for {input}?", "Same for {input}", "Now {input}", "What about {input}?", "Next one: {input}")
_BLOCK_FOLLOW_UPS = ("And for this one?\n{input}", "Same again:\n{input}")  # for inputs spanning several lines
_CORRECTIONS = (
    "That's not our convention. Please check the rule and try again.",
    "Hmm, that doesn't match the format we use. Fix it please.",
    "Wrong format. Can you redo it?",
    "That's not right for our team. Try again.",
    "No, that breaks the convention. What should it be?",
)


@dataclass(frozen=True)
class Conversation:
    kind: str
    messages: list[Message]  # ends with the assistant turn that answers `final_input`
    final_input: str

    @property
    def expected(self) -> str:
        return self.messages[-1]["content"]

    @property
    def prompt(self) -> list[Message]:
        """Everything before the last assistant turn: what a model sees when it is evaluated."""
        return self.messages[:-1]


def user(content: str) -> Message:
    return {"role": "user", "content": content}


def assistant(content: str, target: bool = True) -> Message:
    return {"role": "assistant", "content": content, "target": target}


def sample_kind(rng: random.Random) -> str:
    return rng.choices(KINDS, weights=KIND_WEIGHTS)[0]


def distinct_inputs(family: Family, params: Params, rng: random.Random, n: int, avoid: Avoid = None) -> list[str]:
    """Up to n different inputs that `avoid` does not reject; fewer only if the family's input space is tiny."""
    inputs: list[str] = []
    for _ in range(20 * n):
        text = family.sample_input(params, rng)
        if text not in inputs and not (avoid and avoid(text)):
            inputs.append(text)
        if len(inputs) == n:
            break
    return inputs or [family.sample_input(params, rng)]


def follow_up(text: str, rng: random.Random) -> str:
    return rng.choice(_BLOCK_FOLLOW_UPS if "\n" in text else _FOLLOW_UPS).replace("{input}", text)


def wrong_answer(family: Family, params: Params, text: str, rng: random.Random) -> str:
    """A plausible mistake: what the same family's rule gives under other parameters, i.e. another team's convention."""
    for _ in range(30):
        candidate = family.answer(family.sample_params(rng), text)
        if not family.check(params, text, candidate):
            return candidate
    gold = family.answer(params, text)
    # Small-parameter families can agree everywhere on an input; a casing slip is the next most plausible mistake.
    for candidate in (gold.upper(), gold.lower(), gold.swapcase(), gold + "."):
        if not family.check(params, text, candidate):
            return candidate
    return "I am not sure."


def conversation(family: Family, params: Params, kind: str, rng: random.Random, avoid: Avoid = None) -> Conversation:
    """One conversation of the given kind (see KINDS) whose last turn is a gold assistant answer.

    `avoid` rejects inputs, e.g. those a skill already shows as worked examples, so a test is not a lookup.
    """
    if kind == "single":
        count = 1
    elif kind == "multi":
        count = rng.randint(2, 4)
    elif kind == "followup":
        count = rng.randint(2, 3)
    elif kind == "correction":
        count = rng.choice((1, 1, 2))
    else:
        raise ValueError(f"unknown conversation kind {kind!r}; expected one of {KINDS}")
    inputs = distinct_inputs(family, params, rng, count, avoid)

    messages: list[Message] = []
    for i, text in enumerate(inputs):
        asks = family.request(text, rng) if i == 0 or kind != "followup" else follow_up(text, rng)
        messages.append(user(asks))
        if kind == "correction" and i == len(inputs) - 1:
            messages += [
                assistant(wrong_answer(family, params, text, rng), target=False),
                user(rng.choice(_CORRECTIONS)),
            ]
        messages.append(assistant(family.answer(params, text)))
    return Conversation(kind, messages, inputs[-1])
