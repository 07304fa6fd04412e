"""Colours shared by the static figures (matplotlib, ``mscsim.plots``) and the report's interactive
ones (plotly, ``mscsim.report``). A module of its own so that the report does not import
matplotlib for a table of colours (0.3-0.6 s of a trial command's wall time; issue 19)."""

from __future__ import annotations

#: one colour per organ (and blood), the same in every figure
ORGAN_COLORS = {
    "lung": "#1f77b4", "liver": "#8c564b", "spleen": "#d62728", "gut": "#ff7f0e", "kidney": "#9467bd",
    "heart": "#e377c2", "brain": "#7f7f7f", "marrow": "#bcbd22", "muscle": "#17becf", "skin": "#aec7e8",
    "adipose": "#ffbb78", "rest": "#c5b0d5", "blood": "#000000",
}
