"""mscsim: simulate mesenchymal stem/stromal cell (MSC) therapy.

After MSCs are infused, where do they go, how do they calm the immune system, and what does
that do to the course of a disease? See ``design.md`` in the docs for the layers:
physiology -> kinetics -> immune -> diseases -> population -> trial -> evidence.
"""

__version__ = "0.1.0"
