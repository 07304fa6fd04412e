"""Fill the generated sections of README.md: the latest `mscsim validate` table, the shipped
calibrations and the benchmark summary (nothing in them is written by hand).

    mscsim validate -o mscsim-out/validate
    python benchmarks/bench_engines.py
    python tools/update_readme.py [mscsim-out/validate/validation.md]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from mscsim.paramdocs import calibration_markdown

ROOT = Path(__file__).resolve().parents[1]


def _between(text: str, tag: str, body: str) -> str:
    pat = re.compile(rf"(<!-- {tag}:start -->\n).*?(<!-- {tag}:end -->)", re.S)
    if not pat.search(text):
        raise SystemExit(f"README.md has no {tag} markers")
    return pat.sub(lambda m: m.group(1) + body.rstrip() + "\n" + m.group(2), text)


def validation_section(path: Path) -> str:
    table = path.read_text().strip()
    rows = [ln for ln in table.splitlines() if ln.startswith("| ") and not ln.startswith("| trial")]
    hit = sum(1 for r in rows if "| yes |" in r)
    miss = sum(1 for r in rows if "| **no** |" in r)
    cal = [r for r in rows if r.rstrip().endswith("| calibration |")]
    chk = [r for r in rows if r.rstrip().endswith("| validation |")]
    cal_hit = sum(1 for r in cal if "| yes |" in r)
    chk_hit = sum(1 for r in chk if "| yes |" in r)
    head = (f"**{hit} of {len(rows)} comparisons inside, {miss} outside** ({len(rows) - hit - miss} not "
            f"decidable). Calibration records: {cal_hit} of {len(cal)} inside; records used only to "
            f"check: {chk_hit} of {len(chk)} inside.\n\n")
    return head + table + "\n"


def bench_section(path: Path) -> str:
    text = path.read_text()
    keep = []
    for title in ("## Patients per second", "## A whole 1000-patient"):
        i = text.find(title)
        if i < 0:
            continue
        j = text.find("\n## ", i + 3)
        keep.append(text[i:j if j > 0 else None].replace("## ", "#### ", 1).strip())
    head = "\n".join(ln for ln in text.splitlines()[:6] if ln.startswith("- "))
    return head + "\n\n" + "\n\n".join(keep) + "\n"


def main(argv: list[str]) -> None:
    val = Path(argv[0]) if argv else ROOT / "mscsim-out" / "validate" / "validation.md"
    readme = ROOT / "README.md"
    text = readme.read_text()
    text = _between(text, "validation", validation_section(val))
    text = _between(text, "calibration", calibration_markdown() + "\n")
    text = _between(text, "bench", bench_section(ROOT / "benchmarks" / "RESULTS.md"))
    readme.write_text(text)
    print(f"README.md updated from {val} and benchmarks/RESULTS.md")


if __name__ == "__main__":
    main(sys.argv[1:])
