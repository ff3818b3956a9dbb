"""Values computed once from the frozen base and kept on disk (skill encodings, teacher targets, base misses)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, TypeVar

import torch

T = TypeVar("T")


def cached(path: Path, build: Callable[[], T]) -> T:
    """torch.load(path) when it exists; otherwise build(), saved through a temporary file renamed into place, so a
    run stopped while saving never leaves a half-written cache that the next run would load."""
    if path.exists():
        return torch.load(path, map_location="cpu")
    value = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(value, tmp)
    tmp.replace(path)
    return value
