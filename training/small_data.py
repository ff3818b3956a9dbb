"""The small model's training data: the chat template encoded turn by turn with a mask of answer tokens, rows that
share one copy of a skill prefix among its conversations, padded batches, and the train skills per epoch
(training.train_small has the whole picture).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import torch
from tokenizers import Tokenizer

from .cases import read_jsonl
from .tokenizer import BOS, IM_END, IM_START


# ---------------------------------------------------------------- chat encoding

class ChatEncoder:
    """Token ids of the chat template (tokenizer.CHAT_TEMPLATE), turn by turn, with a mask of answer tokens.

    Encoding piece by piece equals encoding the rendered template, because special tokens always split
    the text; tests check it against transformers' apply_chat_template."""

    def __init__(self, tok: Tokenizer):
        self.tok = tok
        self.bos, self.im_start, self.im_end = (tok.token_to_id(t) for t in (BOS, IM_START, IM_END))
        self.newline = tok.encode("\n").ids

    def turn(self, role: str, content: str, target: bool = False) -> tuple[list[int], list[int]]:
        """<|im_start|>role\\ncontent<|im_end|>\\n; mask 1 on the content tokens and <|im_end|> when target."""
        header = role + "\n"
        enc = self.tok.encode(header + content)
        mask = [int(target and start >= len(header)) for start, _ in enc.offsets]
        return [self.im_start, *enc.ids, self.im_end, *self.newline], [0, *mask, int(target), *[0] * len(self.newline)]

    def prefix(self, skill_md: str | None) -> list[int]:
        """<|bos|> and, when the skill is given in context, its system turn."""
        return [self.bos] + (self.turn("system", skill_md)[0] if skill_md is not None else [])

    def conversation(self, messages: list[dict]) -> tuple[list[int], list[int]]:
        ids, mask = [], []
        for m in messages:
            i, k = self.turn(m["role"], m["content"], m["role"] == "assistant" and bool(m.get("target")))
            ids += i
            mask += k
        return ids, mask

    def prompt(self, skill_md: str | None, messages: list[dict]) -> list[int]:
        """Ids up to the generation prompt `<|im_start|>assistant\\n` (add_generation_prompt=True)."""
        return self.prefix(skill_md) + self.conversation(messages)[0] + [self.im_start] + self.tok.encode("assistant\n").ids


# ---------------------------------------------------------------- rows and batches

@dataclass
class Row:
    ids: list[int]
    mask: list[int]  # 1 where the token is an answer token the model must predict
    segment: list[int]  # 0 = shared prefix, k = k-th conversation
    position: list[int]


def pack_rows(prefix: list[int], convs: list[tuple[list[int], list[int]]], max_tokens: int) -> list[Row]:
    """Greedily put conversations after one copy of the prefix; conversations that would overflow start a new row.
    A prefix that leaves no room for a conversation gives no rows."""
    rows, current = [], None
    room = max_tokens - len(prefix)
    if room < 16:
        return []
    for ids, mask in convs:
        ids, mask = ids[:room], mask[:room]  # only a conversation longer than the whole context is cut
        if current is None or len(current.ids) + len(ids) > max_tokens:
            current = Row(list(prefix), [0] * len(prefix), [0] * len(prefix), list(range(len(prefix))))
            rows.append(current)
        seg = max(current.segment) + 1
        current.ids += ids
        current.mask += mask
        current.segment += [seg] * len(ids)
        current.position += range(len(prefix), len(prefix) + len(ids))
    return rows


def collate(rows: list[Row], pad_id: int, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    t = max(len(r.ids) for r in rows)
    pad = lambda seq, v: seq + [v] * (t - len(seq))  # noqa: E731
    batch = {
        "ids": torch.tensor([pad(r.ids, pad_id) for r in rows]),
        "mask": torch.tensor([pad(r.mask, 0) for r in rows], dtype=torch.bool),
        "segment": torch.tensor([pad(r.segment, -1) for r in rows]),
        "position": torch.tensor([pad(r.position, 0) for r in rows]),
    }
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def make_batches(rows: list[Row], batch_tokens: int, rng: random.Random) -> list[list[Row]]:
    """Sort by length so rows of one batch pad little, cut by padded-token budget, then shuffle the batches."""
    rows = sorted(rows, key=lambda r: len(r.ids))
    batches, current = [], []
    for r in rows:
        if current and len(r.ids) * (len(current) + 1) > batch_tokens:
            batches.append(current)
            current = []
        current.append(r)
    if current:
        batches.append(current)
    rng.shuffle(batches)
    return batches


# ---------------------------------------------------------------- data

class SkillData:
    """Train skills and their conversations, per epoch; validation rows from the `valid` subset."""

    def __init__(self, data_dir: Path, max_skills: int = 0):
        from .skills import Skill

        if not (data_dir / "train.jsonl").exists():
            raise SystemExit(f"{data_dir}/train.jsonl is missing: run `python -m training.make_data --seed 0 --out {data_dir}`")
        self.skills = {r["skill_id"]: Skill.from_record(r) for r in read_jsonl(data_dir / "skills.jsonl") if r["split"] == "train"}
        self.trajs: dict[str, list[dict]] = {}
        self.subset: dict[str, str] = {}
        for t in read_jsonl(data_dir / "train.jsonl"):
            self.trajs.setdefault(t["skill_id"], []).append(t)
            self.subset[t["skill_id"]] = t["subset"]
        self.train_ids = sorted(s for s in self.trajs if self.subset[s] == "train")
        self.valid_ids = sorted(s for s in self.trajs if self.subset[s] == "valid")
        if max_skills:
            self.train_ids = self.train_ids[:max_skills]
            self.valid_ids = self.valid_ids[: max(2, max_skills // 10)]

    def texts(self) -> list[str]:
        """Tokenizer training text: train skills and train conversations (no held-out text)."""
        out = [self.skills[s].to_markdown() for s in self.train_ids]
        out += [m["content"] for s in self.train_ids for t in self.trajs[s] for m in t["messages"]]
        return out + ["system\n", "user\n", "assistant\n"]

    def epoch(self, epoch: int, seed: int) -> list[tuple[str, list[list[dict]]]]:
        """(SKILL.md, conversations) per train skill; fresh wording and conversations after epoch 0."""
        if epoch == 0:
            return [(self.skills[s].to_markdown(), [t["messages"] for t in self.trajs[s]]) for s in self.train_ids]
        from .make_data import skill_conversation
        from .skills import FAMILIES, make_skill

        out = []
        for sid in self.train_ids:
            s = self.skills[sid]
            fresh = make_skill(FAMILIES[s.family], s.params, s.style, s.template, sid, random.Random(f"{seed}:epoch{epoch}:skill:{sid}"), s.split)
            rng = random.Random(f"{seed}:epoch{epoch}:trajectories:{sid}")
            out.append((fresh.to_markdown(), [skill_conversation(fresh, rng).messages for _ in self.trajs[sid]]))
        return out

    def valid(self) -> list[tuple[str, list[list[dict]]]]:
        return [(self.skills[s].to_markdown(), [t["messages"] for t in self.trajs[s]]) for s in self.valid_ids]


def build_rows(enc: ChatEncoder, skills: list[tuple[str, list[list[dict]]]], max_tokens: int,
               no_skill_fraction: float, rng: random.Random) -> list[Row]:
    rows = []
    for skill_md, convs in skills:
        encoded = [enc.conversation(m) for m in convs]
        with_skill = rng.random() >= no_skill_fraction
        rows += pack_rows(enc.prefix(skill_md if with_skill else None), encoded, max_tokens)
    return rows
