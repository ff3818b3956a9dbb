"""Every skill family, grouped by theme; FAMILIES is the registry, in a fixed order."""

from __future__ import annotations

from ..base import Family
from . import code, formats, naming, paths, records, vcs

FAMILIES: dict[str, Family] = {
    family.name: family
    for family in vcs.FAMILIES + naming.FAMILIES + paths.FAMILIES + formats.FAMILIES + records.FAMILIES + code.FAMILIES
}
