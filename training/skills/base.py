"""The skill-family interface: a parameterised text rule, a program that answers it and a checker."""

from __future__ import annotations

import itertools
import json
import random
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from .text import pluralize

# Family parameters are JSON scalars (str, int, bool) so a params dict survives a JSON round trip unchanged.
Params = dict[str, Any]


def clean_output(output: str) -> str:
    """Drop formatting a model may add around an answer: surrounding whitespace, a code fence or backticks."""
    text = output.strip()
    if len(text) >= 6 and text.startswith("```") and text.endswith("```"):
        inner = text[3:-3]
        first, newline, rest = inner.partition("\n")
        # A fence may open with a language tag (```text); it is not part of the answer.
        text = rest if newline and (not first.strip() or first.strip().isalnum()) else inner
    elif len(text) >= 2 and text[0] == text[-1] == "`":
        text = text[1:-1]
    return " ".join(text.split())


def same_text(output: str, expected: str) -> bool:
    """The default checker: equal up to whitespace runs and an enclosing code span."""
    return clean_output(output) == " ".join(expected.split())


def same_json(output: str, expected: str) -> bool:
    """Checker for JSON answers: any spacing is fine, but keys, values and key order must match."""
    try:
        parsed = json.loads(clean_output(output), object_pairs_hook=list)
    except ValueError:
        return False
    return parsed == json.loads(expected, object_pairs_hook=list)


class Family(ABC):
    """One kind of skill. Subclasses declare their parameter space and implement rules, inputs and answers."""

    name: ClassVar[str]  # snake_case family id
    title: ClassVar[str]  # heading of a rendered skill
    summary: ClassVar[str]  # what the skill is for: the front-matter description starts with it
    output_noun: ClassVar[str]  # what an answer is called in prose ("commit message")
    space: ClassVar[Mapping[str, Sequence[Any]]]  # parameter name -> its choices
    requests: ClassVar[Sequence[str]]  # user-turn wordings; "{input}" is replaced by the input

    @property
    def topic(self) -> str:
        return pluralize(self.output_noun)

    def valid(self, params: Params) -> bool:
        """False for combinations that contradict themselves, or set an unused parameter off its first value
        (two such combinations would be the same rule under two names)."""
        return True

    def combos(self) -> list[Params]:
        """Every valid parameter combination, in a fixed order."""
        keys = list(self.space)
        combos = (dict(zip(keys, values)) for values in itertools.product(*(self.space[k] for k in keys)))
        return [params for params in combos if self.valid(params)]

    def sample_params(self, rng: random.Random) -> Params:
        while True:
            params = {key: rng.choice(list(choices)) for key, choices in self.space.items()}
            if self.valid(params):
                return params

    def request(self, text: str, rng: random.Random) -> str:
        """A user turn asking for the answer to `text`."""
        return rng.choice(list(self.requests)).replace("{input}", text)

    def check(self, params: Params, text: str, output: str) -> bool:
        """Execution check of a model output; families with several valid answers override it."""
        return same_text(output, self.answer(params, text))

    @abstractmethod
    def rules(self, params: Params) -> list[str]:
        """The rule as sentences; every rendering style is built from these."""

    @abstractmethod
    def sample_input(self, params: Params, rng: random.Random) -> str:
        """A realistic user input for this skill."""

    @abstractmethod
    def answer(self, params: Params, text: str) -> str:
        """The gold answer for `text` under `params`."""
