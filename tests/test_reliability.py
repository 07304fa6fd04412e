"""Reliability (issue 10): malformed input always gives a clean error and writes nothing;
failed patients are retried, then reported, and the trial finishes."""

import copy
import math

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from mscsim.cli import main
from mscsim.errors import MscsimError
from mscsim.scenario import load_scenario

VALID = {
    "name": "reliability", "disease": "ra", "seed": 3,
    "population": {"inclusion": {"das28_esr": ">5.1"}, "covariates": {"age": {"min": 18, "max": 75}}},
    "arms": [{"name": "msc", "n": 3, "regimen": [{"dose": "1e6 cells/kg", "route": "iv", "at": "0 d"}]},
             {"name": "placebo", "n": 2, "regimen": []}],
    "endpoints": [{"name": "das28_esr", "at": "30 d"}],
}

# Each mutation makes a valid scenario invalid, whatever the drawn value.
BAD_SCALARS = st.one_of(st.just(None), st.just(float("nan")), st.just(-1), st.just([]), st.just({}),
                        st.text(min_size=0, max_size=8).filter(lambda s: s.strip() == "" or not s[0].isalnum()))


def _mutations():
    def drop(key):
        return lambda d, _: d.pop(key)

    def setp(path, value_strategy):
        def f(d, v):
            node = d
            for k in path[:-1]:
                node = node[k]
            node[path[-1]] = v
        return (f, value_strategy)

    unknown_key = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=3, max_size=12).filter(
        lambda k: k not in {"name", "disease", "subtype", "seed", "population", "arms", "endpoints",
                            "description", "source", "validation"})
    muts = [
        (drop("name"), st.none()), (drop("disease"), st.none()), (drop("arms"), st.none()), (drop("endpoints"), st.none()),
        (lambda d, k: d.__setitem__(k, 1), unknown_key),
        setp(["disease"], st.text(max_size=10).filter(lambda s: s not in {"ra", "t1d", "ms", "sle", "ibd", "liver"})),
        setp(["seed"], st.one_of(st.integers(max_value=-1), st.text(min_size=1, max_size=5).filter(
            lambda s: not s.strip().lstrip("+").isdigit()), st.floats(allow_nan=True).filter(lambda x: x != int(x) if math.isfinite(x) else True))),
        setp(["arms"], st.one_of(st.just([]), st.text(max_size=5), st.integers())),
        setp(["arms", 0, "n"], st.one_of(st.integers(max_value=0), st.integers(min_value=1_000_001), st.text(min_size=1, max_size=4).filter(lambda s: not s.strip().isdigit()))),
        setp(["arms", 0, "regimen", 0, "dose"], st.one_of(
            st.floats(allow_nan=True, allow_infinity=True), st.integers(),
            st.sampled_from(["1e6", "-1e6 cells/kg", "nan cells/kg", "inf cells", "1e6 mice", "cells/kg", "",
                             "1e12 cells/kg", "40 mL at -5 cells/mL", "1e6 cells per kg"]))),
        setp(["arms", 0, "regimen", 0, "route"], st.text(max_size=12).filter(
            lambda s: s not in {"iv", "intra_arterial", "intraportal", "intrathecal", "local"})),
        setp(["arms", 0, "regimen", 0, "at"], st.one_of(st.integers(), st.sampled_from(["3", "-2 d", "x d", "2 fortnights", "nan h"]))),
        setp(["arms", 0, "regimen", 0, "times"], st.integers(max_value=0)),
        setp(["arms", 0, "regimen", 0, "artery"], st.text(max_size=8)),
        setp(["arms", 0, "regimen", 0, "site"], st.text(max_size=8)),
        setp(["arms", 0, "regimen", 0, "every"], st.sampled_from(["0 d", "-7 d", "weekly", "7"])),
        setp(["arms", 0, "regimen", 0, "product"], st.text(max_size=8).filter(
            lambda s: s not in {"msc", "bm-msc", "uc-msc", "wj-msc", "ad-msc", "cb-msc", "msc-np", "msc-3d", "msc-hypoxic"})),
        setp(["arms", 1, "name"], st.just("msc")),
        setp(["endpoints", 0, "name"], st.text(max_size=12).filter(lambda s: s not in {"das28_esr", "das28_crp", "acr20", "acr50", "acr70", "eular_response", "crp", "esr", "tjc28", "sjc28", "haq", "tnf", "ifng", "il17", "il6", "il10", "il4", "tgfb", "th17_pct", "treg_pct", "th17_treg_ratio", "msc_blood", "msc_lung_pct", "msc_liver_pct", "msc_spleen_pct", "msc_target_pct", "lung_occlusion", "survival"} and not s.startswith("label_"))),
        setp(["endpoints", 0, "at"], st.one_of(st.integers(), st.floats(), st.sampled_from(["30", "30 days later", "-1 d", "1e9 y"]))),
        setp(["endpoints"], st.one_of(st.just([]), st.text(max_size=4))),
        setp(["population", "inclusion", "das28_esr"], st.sampled_from(["about 5", "> five", "=>5", [6, 5], None, {}])),
        setp(["population", "covariates", "age"], st.sampled_from([{"min": 80, "max": 20}, {"sd": 3}, {"mean": "old"}, {"mean": 50, "sd": -1}, {"mean": float("nan"), "sd": 1}])),
        setp(["population"], st.sampled_from([[], "all", {"inclusion": [], "covariates": {}}, {"colour": 1}])),
    ]
    return muts


MUTS = _mutations()


@st.composite
def malformed(draw):
    d = copy.deepcopy(VALID)
    k = draw(st.integers(min_value=1, max_value=3))
    for i in range(k):
        f, strat = MUTS[draw(st.integers(0, len(MUTS) - 1))]
        try:
            f(d, draw(strat))
        except (KeyError, IndexError, TypeError):
            pass  # an earlier mutation removed the path; the scenario is already invalid
    return d


@settings(max_examples=2500, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(malformed())
def test_loader_rejects_malformed_scenarios_cleanly(data):
    with pytest.raises((MscsimError, ValidationError)):
        load_scenario(data)


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=malformed())
def test_cli_rejects_malformed_scenarios_with_one_line_and_writes_nothing(tmp_path_factory, data, capsys):
    tmp = tmp_path_factory.mktemp("cli")
    p = tmp / "scenario.yaml"
    try:
        p.write_text(yaml.safe_dump(data, allow_unicode=True))
    except yaml.YAMLError:
        return
    out = tmp / "out"
    rc = main(["trial", str(p), "-o", str(out), "--no-report"])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("error:") and "Traceback" not in err
    assert not out.exists()


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_random_yaml_text_is_a_clean_error(tmp_path_factory, text, capsys):
    p = tmp_path_factory.mktemp("y") / "s.yaml"
    p.write_text(text)
    rc = main(["trial", str(p), "--no-report", "-o", str(p.parent / "out")])
    assert rc == 2 and "Traceback" not in capsys.readouterr().err
    assert not (p.parent / "out").exists()


def test_a_failing_patient_is_retried_then_reported(monkeypatch):
    from mscsim import trial as trial_mod
    from mscsim.numerics.solve import IntegrationError

    real = trial_mod.integrate
    calls = {"n": 0}

    def flaky(compiled, p, y0, times, admins, options):
        # the third patient of the trial always fails (both the default and the stricter attempt)
        if flaky.current == "msc-00002":
            calls["n"] += 1
            raise IntegrationError("forced failure for the test")
        return real(compiled, p, y0, times, admins, options)

    orig_run = trial_mod.run_patient

    def run(task):
        flaky.current = task.patient.pid
        return orig_run(task)

    monkeypatch.setattr(trial_mod, "integrate", flaky)
    monkeypatch.setattr(trial_mod, "run_patient", run)
    res = trial_mod.run_trial(load_scenario(VALID), progress=False)
    assert calls["n"] == 2                              # tried, then retried with stricter settings
    (f,) = res.summary["failures"]
    assert f["patient"] == "msc-00002" and "forced failure" in f["message"] and f["parameters"]
    arm = res.summary["arms"][0]
    assert arm["n"] == 2 and arm["failures"] == 1      # the trial finished with the others


def test_dose_above_hard_limit_is_refused_and_above_clinical_warned(tmp_path, capsys):
    d = copy.deepcopy(VALID)
    d["arms"][0]["regimen"][0]["dose"] = "1e10 cells/kg"
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(d))
    assert main(["trial", str(p), "-o", str(tmp_path / "o")]) == 2
    assert "hard limit" in capsys.readouterr().err
    d["arms"][0]["regimen"][0]["dose"] = "1e7 cells/kg"
    p.write_text(yaml.safe_dump(d))
    assert main(["trial", str(p), "-o", str(tmp_path / "o2"), "--no-report"]) == 0
    assert "above the largest dose" in capsys.readouterr().err
