"""Ordinary prose for the skill-tune anchor and the general-text perplexity check: Python's own reference
documentation as the interpreter ships it (pydoc_data.topics: English technical prose with some code, no skill data).

Topics are split by a fixed hash of their name: HELDOUT_FRACTION of them are never trained on and give the
perplexity; the rest feed the anchor. The text depends on the Python version, which results record.

"""
from __future__ import annotations

import hashlib
import math
import sys

import torch
import torch.nn.functional as F

HELDOUT_FRACTION = 0.2


def _topics() -> dict[str, str]:
    from pydoc_data.topics import topics

    return dict(sorted(topics.items()))


def is_heldout(name: str) -> bool:
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < HELDOUT_FRACTION


def train_topics() -> list[str]:
    return [text for name, text in _topics().items() if not is_heldout(name)]


def heldout_topics() -> list[str]:
    return [text for name, text in _topics().items() if is_heldout(name)]


def token_sequences(tok, texts: list[str], length: int) -> list[list[int]]:
    """The texts' tokens run together (one bos first, as a document starts) and cut into sequences of `length`."""
    ids: list[int] = []
    for text in texts:
        ids += tok.encode(text.strip() + "\n\n", add_special_tokens=False)
    bos = [tok.bos_token_id] if tok.bos_token_id is not None else []
    body = length - len(bos)
    return [bos + ids[i:i + body] for i in range(0, len(ids) - body + 1, body)]


@torch.no_grad()
def perplexity(model, tok, length: int = 512, max_sequences: int = 0) -> dict:
    """Perplexity of the held-out topics: exp of the mean next-token cross-entropy over every predicted token."""
    seqs = token_sequences(tok, heldout_topics(), length)
    if max_sequences:
        seqs = seqs[:max_sequences]
    total, count = 0.0, 0
    for seq in seqs:
        ids = torch.tensor([seq])
        logits, _, _ = model(ids[:, :-1], all_logits=True)
        total += float(F.cross_entropy(logits[0].float(), ids[0, 1:], reduction="sum"))
        count += len(seq) - 1
    return {"perplexity": round(math.exp(total / count), 4), "tokens": count, "sequences": len(seqs), "sequence_tokens": length,
            "source": f"pydoc_data.topics (Python {sys.version_info.major}.{sys.version_info.minor}), held-out topics"}
