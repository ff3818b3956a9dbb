"""Skill text -> base model hidden states at the encoder layers, chunk by chunk when longer than the context."""
from __future__ import annotations

import torch

from .model import Transformer


def skill_chunks(ids: list[int], bos_id: int | None, chunk_tokens: int) -> list[list[int]]:
    """Split token ids into chunks of at most chunk_tokens, each opened by BOS (positions restart per chunk)."""
    body = chunk_tokens - (1 if bos_id is not None else 0)
    if body <= 0:
        raise ValueError("chunk_tokens is too small")
    pieces = [ids[i:i + body] for i in range(0, max(len(ids), 1), body)]
    return [([bos_id] if bos_id is not None else []) + p for p in pieces]


@torch.no_grad()
def encode_skill(model: Transformer, ids: list[int], bos_id: int | None, encoder_layers: list[int], chunk_tokens: int) -> torch.Tensor:
    """Hidden states [E, T, H] of every chunk, concatenated along T (the hypernetwork pools over all of them). The
    layers after the last encoder layer are not run."""
    states = []
    for chunk in skill_chunks(ids, bos_id, chunk_tokens):
        _, _, hidden = model(torch.tensor([chunk]), encoder_layers=encoder_layers, encode_only=True)
        states.append(hidden[:, 0])
    return torch.cat(states, dim=1)
