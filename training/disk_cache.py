"""Values computed once from the frozen base and kept on disk (skill encodings, teacher targets, base misses)."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Sequence, TypeVar

import torch

T = TypeVar("T")
S = TypeVar("S")


def _save(value, path: Path) -> None:
    """torch.save through a temporary file renamed into place: a run stopped while saving leaves the old file or none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(value, tmp)
    tmp.replace(path)


def cached(path: Path, build: Callable[[], T]) -> T:
    """torch.load(path) when it exists; otherwise build(), saved so that a run stopped while saving never leaves a
    half-written cache that the next run would load."""
    if path.exists():
        return torch.load(path, map_location="cpu")
    value = build()
    _save(value, path)
    return value


def cached_list(path: Path, items: Sequence[S], build_one: Callable[[S], T], save_every_s: float = 300.0,
                progress: Callable[[int, int], None] | None = None) -> list[T]:
    """[build_one(x) for x in items], cached at path like cached(), and resumable: while it runs, what is built so far
    is saved every save_every_s seconds beside path (name + '.partial'), and a run stopped midway goes on from there.
    The path must name the items (a key of what they are), as the partial file is trusted to be their prefix."""
    partial = path.with_name(path.name + ".partial")

    def build() -> list[T]:
        out: list[T] = torch.load(partial, map_location="cpu") if partial.exists() else []
        if len(out) > len(items):
            raise ValueError(f"{partial} holds {len(out)} values for {len(items)} items: delete it")
        last = time.monotonic()
        for i in range(len(out), len(items)):
            out.append(build_one(items[i]))
            if progress is not None:
                progress(i + 1, len(items))
            if time.monotonic() - last >= save_every_s and i + 1 < len(items):
                _save(out, partial)
                last = time.monotonic()
        return out

    value = cached(path, build)
    partial.unlink(missing_ok=True)
    return value
