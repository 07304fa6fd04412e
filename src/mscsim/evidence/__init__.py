"""Published MSC-trial evidence: shipped records, random-effects meta-analysis, forest plots.

``load_records`` / ``studies`` (records.py) read the cleaned copy of reference/evidence.yaml
shipped in ``mscsim/data``; ``meta_analysis`` / ``RandomEffectsMeta`` (meta.py) pool comparable
records; ``forest_plot`` (forest.py) draws the result.
"""

from __future__ import annotations

from mscsim.evidence.records import (
    DISEASES,
    ENDPOINTS,
    EvidenceRecord,
    endpoints_for,
    load_records,
    studies,
)

__all__ = [
    "DISEASES", "ENDPOINTS", "EvidenceRecord", "endpoints_for", "load_records", "studies",
    "RandomEffectsMeta", "MetaResult", "build_effects", "meta_analysis", "forest_plot",
]


def __getattr__(name: str):
    # meta/forest import statsmodels and matplotlib: load them only when asked for
    if name in ("RandomEffectsMeta", "MetaResult", "build_effects", "meta_analysis"):
        from mscsim.evidence import meta

        return getattr(meta, name)
    if name == "forest_plot":
        from mscsim.evidence.forest import forest_plot

        return forest_plot
    raise AttributeError(f"module 'mscsim.evidence' has no attribute {name!r}")
