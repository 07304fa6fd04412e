"""Whole-body MSC kinetics in cell counts (design.md layer 2; reference/kinetics.md s.2).

Where the cells go: venous blood -> lung first pass (``lung``) -> arterial blood -> organs,
with per-organ arrest, release, death/efferocytosis and a small engrafted fraction
(``clearance``), a debris/label track for imaging and a phagocyte pool handing MSC material
to the immune network, homing to injured tissue by SDF-1 x CXCR4 (``homing``), and the
routes of administration (``routes``). Every transfer is written as a flux, so cells are
conserved by construction: infused = viable + debris + cleared.
"""

from mscsim.kinetics.build import KineticsHandles, add_kinetics

__all__ = ["add_kinetics", "KineticsHandles"]
