"""Published MSC-trial records shipped with the package: schema, loader and study summary.

The records are a cleaned copy of ``reference/evidence.yaml`` (one record per study / arm /
endpoint / timepoint), produced by ``tools/clean_evidence.py`` and stored in
``mscsim/data/evidence.yaml``. Each record keeps the source text of every field beside its parsed
form and carries its citation (PMID / DOI / journal), so every number can be traced back.

"Not reported" values stay in the file (so one can list which endpoints a trial measured) but
have ``value: null``; use ``load_records(numeric_only=True)`` before any numeric work.

A record file that breaks the schema (unknown disease, negative n, a value that is not a number,
...) raises :class:`mscsim.errors.MscsimError` naming the record and the field.
"""

from __future__ import annotations

import functools
import math
from importlib import resources
from pathlib import Path
from typing import Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mscsim.errors import MscsimError, unknown

#: disease codes (design.md, scenario ``disease:``)
DISEASES = ("ra", "t1d", "ms", "sle", "ibd", "liver", "gvhd", "ards")
#: disease codes of records: the diseases, and "mixed" for pooled analyses across indications
#: (the safety meta-analyses; common endpoints only)
RECORD_DISEASES = DISEASES + ("mixed",)

#: endpoint names from design.md ("Endpoint names"); ``common`` applies to every disease
ENDPOINTS: dict[str, tuple[str, ...]] = {
    "common": ("msc_blood", "msc_lung_pct", "msc_liver_pct", "msc_spleen_pct", "msc_target_pct",
               "tnf", "ifng", "il17", "il6", "il10", "il4", "tgfb", "th17_pct", "treg_pct",
               "th17_treg_ratio", "lung_occlusion", "survival",
               # safety read-outs (mscsim.safety)
               "fever", "infusion_reaction", "thrombosis", "lung_embolism", "d_dimer", "dsa", "infection",
               "death", "malignancy"),
    "ra": ("das28_crp", "das28_esr", "acr20", "acr50", "acr70", "eular_response", "crp"),
    "t1d": ("c_peptide_auc", "fasting_c_peptide", "hba1c", "fasting_glucose", "insulin_dose",
            "insulin_free"),
    "ms": ("edss", "edss_change", "relapse", "gd_lesions", "treatment_failure"),
    "sle": ("sledai", "proteinuria", "anti_dsdna", "c3", "remission", "relapse"),
    "ibd": ("cdai", "cdai_response", "cdai_remission", "fistula_closure", "combined_remission",
            "mayo", "mayo_response"),
    "liver": ("meld", "child_pugh", "bilirubin", "albumin", "inr", "severe_infection"),
    "gvhd": ("gvhd_orr", "gvhd_cr", "gvhd_pr", "gut_cr", "skin_cr", "liver_cr", "gvhd_grade", "nrm"),
    "ards": ("mortality", "pf_ratio", "pf_change", "oxygenation_index", "ventilator_free_days",
             "lung_lesion_change_pct"),
    "mixed": (),
}

ROUTES = ("iv", "intra_arterial", "intraportal", "intrathecal", "local")
STATS = ("mean", "mean_change", "mean_change_pct", "proportion", "count", "direction", "safety",
         "SMD", "WMD", "mean_difference", "median", "hazard_ratio", "risk_ratio", "odds_ratio")
FLAGS = ("meta_analysis", "secondary_source", "unverified", "company_reported",
         "source_inconsistency", "not_msc_only")


def endpoints_for(disease: str) -> tuple[str, ...]:
    """Endpoint names valid for ``disease`` (common ones included)."""
    if disease not in RECORD_DISEASES:
        raise unknown("disease", disease, RECORD_DISEASES, field="disease")
    return ENDPOINTS["common"] + ENDPOINTS[disease]


_Count = Field(default=None, ge=0)
_NonNeg = Field(default=None, ge=0)


class EvidenceRecord(BaseModel):
    """One published number (or one "not reported" placeholder): study, arm, endpoint, time.

    Parsed fields are numbers or null; the source text of each is kept in ``*_text``.
    ``derived`` says which numbers were computed while cleaning (e.g. percent -> proportion).
    """

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    record_id: str = Field(pattern=r"^[A-Za-z0-9_]+#\d+$")
    study_id: str = Field(min_length=1)
    trial_id: str = Field(min_length=1)
    disease: str
    population: str
    design: str
    arm: str
    arm_role: Literal["msc", "control", "contrast"]
    analysis_set: str | None = None
    n: int | None = _Count
    n_total: int | None = _Count
    n_text: str
    cell_source: str
    dose_cells_per_kg: float | None = _NonNeg
    dose_cells_per_kg_text: str
    dose_total_cells: float | None = _NonNeg
    dose_total_cells_text: str
    route: Literal["iv", "intra_arterial", "intraportal", "intrathecal", "local"] | None = None
    artery: str | None = None
    site: str | None = None
    route_text: str
    n_doses: int | None = _Count
    n_doses_text: str
    interval_days: float | None = _NonNeg
    interval_days_text: str
    endpoint: str
    endpoint_code: str | None = None
    timepoint_days: float | None = _NonNeg
    timepoint_text: str
    stat: Literal["mean", "mean_change", "mean_change_pct", "proportion", "count", "direction",
                  "safety", "SMD", "WMD", "mean_difference", "median", "hazard_ratio", "risk_ratio",
                  "odds_ratio"]
    stat_text: str
    value: float | None = None
    value_text: str
    sd: float | None = _NonNeg
    ci_low: float | None = None
    ci_high: float | None = None
    ci_level: float | None = Field(default=None, gt=0, lt=1)
    events: int | None = _Count
    total: int | None = _Count
    diff: float | None = None
    diff_ci_low: float | None = None
    diff_ci_high: float | None = None
    diff_ci_level: float | None = Field(default=None, gt=0, lt=1)
    sd_or_ci: str
    baseline_mean: float | None = None
    baseline_sd: float | None = _NonNeg
    baseline_text: str
    citation: str = Field(min_length=1)
    pmid: str | None = Field(default=None, pattern=r"^\d+$")
    doi: str | None = Field(default=None, pattern=r"^10\.\S+$")
    pmcid: str | None = Field(default=None, pattern=r"^PMC\d+$")
    flags: list[str] = Field(default_factory=list)
    derived: str | None = None
    cleaning_notes: list[str] = Field(default_factory=list)
    notes: str = ""
    use: Literal["calibration", "validation"] | None = None

    @field_validator("disease")
    @classmethod
    def _known_disease(cls, v: str) -> str:
        if v not in RECORD_DISEASES:
            raise ValueError(f"unknown disease {v!r}; accepted: {', '.join(RECORD_DISEASES)}")
        return v

    @field_validator("flags")
    @classmethod
    def _known_flags(cls, v: list[str]) -> list[str]:
        bad = [f for f in v if f not in FLAGS]
        if bad:
            raise ValueError(f"unknown flag(s) {bad}; accepted: {', '.join(FLAGS)}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> EvidenceRecord:
        if not self.record_id.startswith(self.study_id + "#"):
            raise ValueError(f"record_id {self.record_id!r} must start with '{self.study_id}#'")
        valid = endpoints_for(self.disease)
        if self.endpoint_code is not None and self.endpoint_code not in valid:
            raise ValueError(f"endpoint_code {self.endpoint_code!r} is not an endpoint of "
                             f"{self.disease!r}; accepted: {', '.join(valid)}")
        if self.stat in ("direction", "safety") and self.value is not None:
            raise ValueError(f"stat {self.stat!r} is qualitative; value must be null")
        if self.stat == "proportion":
            for name in ("value", "ci_low", "ci_high"):
                x = getattr(self, name)
                if x is not None and not 0.0 <= x <= 1.0:
                    raise ValueError(f"{name} {x} is not a proportion in 0..1")
        if self.stat in ("risk_ratio", "odds_ratio"):
            for name in ("value", "ci_low", "ci_high"):
                x = getattr(self, name)
                if x is not None and not x > 0:
                    raise ValueError(f"{name} {x} of a {self.stat} must be positive")
        if self.stat == "count" and self.value is not None and self.value < 0:
            raise ValueError(f"count value {self.value} is negative")
        if self.events is not None and self.total is not None and self.events > self.total:
            raise ValueError(f"events {self.events} > total {self.total}")
        for lo, hi in (("ci_low", "ci_high"), ("diff_ci_low", "diff_ci_high")):
            a, b = getattr(self, lo), getattr(self, hi)
            if (a is None) != (b is None):
                raise ValueError(f"{lo} and {hi} must be given together")
            if a is not None and a > b:
                raise ValueError(f"{lo} {a} > {hi} {b}")
        if self.route == "intra_arterial" and not self.artery:
            raise ValueError("route 'intra_arterial' needs an artery")
        if self.route == "local" and not self.site:
            raise ValueError("route 'local' needs a site")
        return self


def _format_validation(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()))
    msg = str(err.get("msg", exc)).removeprefix("Value error, ")
    got = err.get("input")
    shown = "" if isinstance(got, dict) or got is None else f" (got {got!r})"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{loc + ': ' if loc else ''}{msg}{shown}{more}"


def validate_records(raw: list, source: str = "evidence records") -> list[EvidenceRecord]:
    """Validate raw record dicts; the first bad one raises an error naming it and its field."""
    if not isinstance(raw, list):
        raise MscsimError(f"{source}: 'records' must be a list of records")
    out: list[EvidenceRecord] = []
    seen: set[str] = set()
    for i, rec in enumerate(raw, start=1):
        rid = rec.get("record_id") if isinstance(rec, dict) else None
        name = rid if isinstance(rid, str) and rid else f"number {i} (no record_id)"
        if not isinstance(rec, dict):
            raise MscsimError(f"{source}: record {name}: not a mapping of fields")
        try:
            model = EvidenceRecord.model_validate(rec)
        except ValidationError as exc:
            raise MscsimError(f"{source}: record {name}: {_format_validation(exc)}") from None
        if model.record_id in seen:
            raise MscsimError(f"{source}: record {name}: duplicate record_id")
        seen.add(model.record_id)
        out.append(model)
    return out


def default_path() -> Path:
    """The evidence file shipped in the package."""
    return Path(str(resources.files("mscsim") / "data" / "evidence.yaml"))


def _read(path: Path) -> list[EvidenceRecord]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MscsimError(f"evidence file not found: {path}") from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        doc = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise MscsimError(f"{path.name}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(doc, dict) or "records" not in doc:
        raise MscsimError(f"{path.name}: expected a mapping with a 'records' list")
    return validate_records(doc["records"], source=path.name)


@functools.lru_cache(maxsize=4)
def _cached(path: str, mtime_ns: int) -> tuple[EvidenceRecord, ...]:
    return tuple(_read(Path(path)))


def records(path: str | Path | None = None) -> tuple[EvidenceRecord, ...]:
    """All validated records of ``path`` (default: the shipped file), in file order."""
    p = Path(path) if path is not None else default_path()
    try:
        mtime = p.stat().st_mtime_ns
    except FileNotFoundError:
        raise MscsimError(f"evidence file not found: {p}") from None
    return _cached(str(p), mtime)


_INT_COLUMNS = ("n", "n_total", "n_doses", "events", "total")


def _frame(recs) -> pd.DataFrame:
    columns = list(EvidenceRecord.model_fields)
    df = pd.DataFrame([r.model_dump() for r in recs], columns=columns)
    for col in _INT_COLUMNS:
        df[col] = pd.array(df[col].tolist(), dtype="Int64")
    for col in columns:
        if col in _INT_COLUMNS:
            continue
        if EvidenceRecord.model_fields[col].annotation in (float | None, float):
            df[col] = df[col].astype("float64")
        else:  # text and list columns: missing stays None, not NaN
            df[col] = df[col].astype(object).where(df[col].notna(), None)
    return df


def study_ids(path: str | Path | None = None) -> list[str]:
    """Study ids in file order."""
    return list(dict.fromkeys(r.study_id for r in records(path)))


def load_records(disease: str | None = None, study: str | None = None, *,
                 path: str | Path | None = None, numeric_only: bool = False) -> pd.DataFrame:
    """Evidence records as a DataFrame, one row per record, columns as :class:`EvidenceRecord`.

    ``disease`` (ra|t1d|ms|sle|ibd|liver) and ``study`` (a study id) filter the rows; unknown
    values are errors listing the accepted ones. ``numeric_only`` keeps rows whose ``value`` is a
    number. Missing numbers are NaN (floats) or <NA> (integer columns ``n``, ``events``, ...).
    """
    recs = records(path)
    if disease is not None and disease not in RECORD_DISEASES:
        raise unknown("disease", disease, RECORD_DISEASES, field="disease")
    if study is not None:
        ids = list(dict.fromkeys(r.study_id for r in recs))
        if study not in ids:
            raise unknown("study", study, ids, field="study")
    sel = [r for r in recs
           if (disease is None or r.disease == disease) and (study is None or r.study_id == study)
           and (not numeric_only or r.value is not None)]
    df = _frame(sel)
    if path is None:  # the shipped records: say which the shipped scenarios use, and how
        roles = scenario_roles()
        df["use"] = [u if u is not None else roles.get(rid) for rid, u in zip(df["record_id"], df["use"])]
    return df


@functools.lru_cache(maxsize=1)
def scenario_roles() -> dict[str, str]:
    """record id -> "calibration" (fitted by ``mscsim calibrate``, or listed in the ``records``
    of a parameter it informed) or "validation" (only checked by ``mscsim validate``), from the
    validation entries of the shipped scenarios and the parameter table (read once per process:
    they are package data). Do not mutate the returned dict."""
    from mscsim.parameters import records_informing
    from mscsim.scenario import load_scenario, shipped_scenarios

    roles: dict[str, str] = {}
    for path in shipped_scenarios().values():
        for v in load_scenario(path).validation:
            if roles.get(v.record) != "calibration":
                roles[v.record] = v.role
    for rid in records_informing():
        if "#" in rid:
            roles[rid] = "calibration"
    return roles


# ---------------------------------------------------------------------------------------------
# Study summary
# ---------------------------------------------------------------------------------------------

def sci(x: float) -> str:
    """Compact scientific notation for cell counts: 1.2e8, 1e6, 0.0 -> '0'."""
    if x == 0:
        return "0"
    exp = math.floor(math.log10(abs(x)))
    mant = x / 10**exp
    m = f"{mant:.3g}"
    if m == "10":
        m, exp = "1", exp + 1
    return f"{m}e{exp}"


def dose_label(r: EvidenceRecord) -> str:
    if r.dose_cells_per_kg == 0 or r.dose_total_cells == 0:
        return "none"
    if r.dose_cells_per_kg:
        return f"{sci(r.dose_cells_per_kg)} cells/kg"
    if r.dose_total_cells:
        return f"{sci(r.dose_total_cells)} cells"
    for text in (r.dose_cells_per_kg_text, r.dose_total_cells_text):
        if text and text not in ("not reported", "0"):
            return text
    return "not reported"


def route_label(r: EvidenceRecord) -> str:
    if r.route is None:
        return r.route_text or "not reported"
    extra = r.artery or r.site
    return f"{r.route} ({extra})" if extra else r.route


def schedule_label(r: EvidenceRecord) -> str:
    if r.n_doses is None:
        return r.n_doses_text if r.n_doses_text not in ("", "not reported") else "not reported"
    s = f"{r.n_doses} dose" + ("s" if r.n_doses != 1 else "")
    if r.n_doses > 1 and r.interval_days:
        s += f", every {r.interval_days:g} d"
    return s


def source_label(r: EvidenceRecord) -> str:
    """The study's own identifier: PMID, else DOI, else PMCID, else the citation text."""
    if r.pmid:
        return f"PMID {r.pmid}"
    if r.doi:
        return f"DOI {r.doi}"
    if r.pmcid:
        return r.pmcid
    return r.citation


def n_label(r: EvidenceRecord) -> str:
    if r.n is not None:
        return str(r.n)
    if r.n_total is not None:
        return f"? of {r.n_total}"
    return "?"


def _unique(items) -> list:
    return list(dict.fromkeys(i for i in items if i))


def studies(disease: str | None = None, *, path: str | Path | None = None) -> pd.DataFrame:
    """One row per study: id, disease, design, arms with n, cell source, dose, route, schedule,
    source (PMID/DOI), number of records and of records with a number."""
    if disease is not None and disease not in RECORD_DISEASES:
        raise unknown("disease", disease, RECORD_DISEASES, field="disease")
    by_study: dict[str, list[EvidenceRecord]] = {}
    for r in records(path):
        if disease is None or r.disease == disease:
            by_study.setdefault(r.study_id, []).append(r)
    rows = []
    for sid, recs in by_study.items():
        arms: dict[str, EvidenceRecord] = {}
        for r in recs:
            prev = arms.get(r.arm)
            if prev is None or (prev.n is None and r.n is not None):
                arms[r.arm] = r
        treated = [r for r in recs if r.arm_role != "control"] or recs
        rows.append({
            "study_id": sid,
            "disease": recs[0].disease,
            "trial_id": recs[0].trial_id,
            "design": recs[0].design,
            "arms": "; ".join(f"{a} (n={n_label(r)})" for a, r in arms.items()),
            "cell_source": "; ".join(_unique(r.cell_source for r in treated)),
            "dose": "; ".join(_unique(dose_label(r) for r in treated)),
            "route": "; ".join(_unique(route_label(r) for r in treated)),
            "schedule": "; ".join(_unique(schedule_label(r) for r in treated)),
            "source": source_label(recs[0]),
            "citation": recs[0].citation,
            "records": len(recs),
            "numeric": sum(r.value is not None for r in recs),
        })
    return pd.DataFrame(rows, columns=["study_id", "disease", "trial_id", "design", "arms",
                                       "cell_source", "dose", "route", "schedule", "source",
                                       "citation", "records", "numeric"])
