"""Fill the generated sections of README.md: the latest `mscsim validate` table, the shipped
calibrations and the benchmark summary (nothing in them is written by hand).

    mscsim validate -o mscsim-out/validate
    python benchmarks/bench_engines.py
    python tools/update_readme.py [mscsim-out/validate]
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from mscsim.evidence.validate import headline_markdown
from mscsim.paramdocs import calibration_markdown

ROOT = Path(__file__).resolve().parents[1]


def _between(text: str, tag: str, body: str) -> str:
    pat = re.compile(rf"(<!-- {tag}:start -->\n).*?(<!-- {tag}:end -->)", re.S)
    if not pat.search(text):
        raise SystemExit(f"README.md has no {tag} markers")
    return pat.sub(lambda m: m.group(1) + body.rstrip() + "\n" + m.group(2), text)


def validation_section(path: Path) -> str:
    """Headline (held/total, coverage, mean interval score per kind of row, from validation.json)
    and the arm and treatment-effect tables written by `mscsim validate` in ``path``'s folder."""
    folder = path.parent if path.suffix == ".md" else path
    summary = json.loads((folder / "validation.json").read_text())
    parts = [headline_markdown(summary), "#### Arm results\n", (folder / "validation.md").read_text().strip() + "\n"]
    eff = folder / "treatment_effects.md"
    if eff.is_file():
        parts += ["#### Treatment effects (MSC arm - control arm)\n", eff.read_text().strip() + "\n"]
    return "\n".join(parts)


def bench_section(path: Path) -> str:
    text = path.read_text()
    keep = []
    for title in ("## Patients per second", "## Compiled engine vs libRoadRunner, paired", "## A whole 1000-patient",
                  "## Issue 19 targets"):
        i = text.find(title)
        if i < 0:
            continue
        j = text.find("\n## ", i + 3)
        keep.append(text[i:j if j > 0 else None].replace("## ", "#### ", 1).strip())
    head = "\n".join(ln for ln in text.splitlines()[:6] if ln.startswith("- "))
    return head + "\n\n" + "\n\n".join(keep) + "\n"


def main(argv: list[str]) -> None:
    val = Path(argv[0]) if argv else ROOT / "mscsim-out" / "validate"
    readme = ROOT / "README.md"
    text = readme.read_text()
    text = _between(text, "validation", validation_section(val))
    text = _between(text, "calibration", calibration_markdown() + "\n")
    text = _between(text, "bench", bench_section(ROOT / "benchmarks" / "RESULTS.md"))
    readme.write_text(text)
    print(f"README.md updated from {val} and benchmarks/RESULTS.md")


if __name__ == "__main__":
    main(sys.argv[1:])
