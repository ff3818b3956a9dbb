"""Every skill family, grouped by theme; FAMILIES is the registry, in a fixed order."""

from __future__ import annotations

from ..base import Family
from . import code, data_api, formats, logs_time, naming, naming_more, paths, process, records, snippets, vcs

_THEMES = (vcs, naming, paths, formats, records, code, process, naming_more, data_api, logs_time, snippets)
FAMILIES: dict[str, Family] = {family.name: family for theme in _THEMES for family in theme.FAMILIES}
