"""The frozen-value caches: a stopped encoding run goes on from its last save and ends with what one run would make."""
import pytest
import torch

from training import disk_cache
from training.disk_cache import cached, cached_list


class Stop(Exception):
    pass


def test_cached_list_resumes_from_its_partial_save(tmp_path, monkeypatch):
    items = list(range(10))
    calls = []

    def build(x):
        calls.append(x)
        if x == 7 and len(calls) == 8:  # the first run stops while building item 7
            raise Stop
        return torch.full((2,), float(x * x))

    clock = iter(range(1000))  # every build takes "1 second"; saves every 3
    monkeypatch.setattr(disk_cache.time, "monotonic", lambda: next(clock))
    path = tmp_path / "enc.pt"
    with pytest.raises(Stop):
        cached_list(path, items, build, save_every_s=3)
    assert not path.exists()
    saved = torch.load(tmp_path / "enc.pt.partial")
    assert 0 < len(saved) < 7
    out = cached_list(path, items, build, save_every_s=3)
    # The second run built only what the partial save lacked; the result equals a plain list comprehension.
    assert calls == list(range(8)) + list(range(len(saved), 10))
    assert all(torch.equal(a, torch.full((2,), float(x * x))) for a, x in zip(out, items, strict=True))
    assert path.exists() and not (tmp_path / "enc.pt.partial").exists()
    # Once complete it is loaded, never rebuilt.
    calls.clear()
    assert all(torch.equal(a, b) for a, b in zip(cached_list(path, items, build), out, strict=True)) and calls == []


def test_partial_longer_than_the_items_is_refused(tmp_path):
    torch.save([torch.zeros(1)] * 5, tmp_path / "enc.pt.partial")
    with pytest.raises(ValueError, match="holds 5 values for 3 items"):
        cached_list(tmp_path / "enc.pt", [0, 1, 2], lambda x: torch.zeros(1))


def test_cached_builds_once(tmp_path):
    calls = []
    build = lambda: calls.append(1) or {"a": torch.ones(3)}  # noqa: E731
    first = cached(tmp_path / "v.pt", build)
    again = cached(tmp_path / "v.pt", build)
    assert calls == [1] and torch.equal(first["a"], again["a"])
    assert [p.name for p in tmp_path.iterdir()] == ["v.pt"]
