"""Whole-trial speed work (issue 19) changes how the work is cut, never the numbers: patients observed
as one stacked table equal patients observed one by one, screening in batches gives the plan of
screening candidate by candidate, and the CLI writes the same files however many workers it has."""

import json

import numpy as np
import pytest

from mscsim.checkpoint import chunk_size
from mscsim.diseases.base import Readouts, endpoint_readouts
from mscsim.model import DISEASES, build_model, disease_module
from mscsim.scenario import load_scenario
from mscsim.trial import (_StackedRng, _NotRowWise, _observe_rows, _Screener, _time_index, plan_trial,
                          run_patient, run_patients)

SCEN = {
    "name": "RA speed test", "disease": "ra", "seed": 11,
    "population": {"inclusion": {"das28_crp": ">3.2"}},
    "arms": [{"name": "msc", "n": 6, "regimen": [{"dose": "1e6 cells/kg", "route": "iv", "at": "0 d"}]},
             {"name": "placebo", "n": 5, "regimen": []}],
    "endpoints": [{"name": "das28_crp", "at": "90 d"}, {"name": "acr20", "at": "90 d"},
                  {"name": "eular_response", "at": "30 d"}],
}


def _same(a: Readouts, b: Readouts) -> None:
    assert a.columns == b.columns
    for c in a.columns:
        x, y = np.asarray(a[c]), np.asarray(b[c])
        assert x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True), c


def test_stacked_generator_gives_each_patient_his_own_numbers():
    seeds = [(1, 2), (3, 4), (5, 6)]
    alone = [np.random.default_rng(np.random.SeedSequence(s)) for s in seeds]
    together = _StackedRng([np.random.default_rng(np.random.SeedSequence(s)) for s in seeds], 4)
    loc = np.arange(12.0)
    got = [together.normal(0.0, 1.0, size=(12,)), together.normal(loc, 2.0, size=12), together.random(12)]
    want = [np.concatenate([g.normal(0.0, 1.0, size=(4,)) for g in alone]),
            np.concatenate([g.normal(loc[4 * i:4 * i + 4], 2.0, size=(4,)) for i, g in enumerate(alone)]),
            np.concatenate([g.random(4) for g in alone])]
    for x, y in zip(got, want):
        assert np.array_equal(x, y)
    with pytest.raises(_NotRowWise):
        together.uniform()                      # one value per patient is not one per row
    with pytest.raises(_NotRowWise):
        together.normal(0.0, 1.0, size=(3, 4))
    with pytest.raises(_NotRowWise):
        together.choice(12)                     # a method it does not know how to split
    assert not hasattr(together, "__deepcopy__")


@pytest.mark.parametrize("disease", [d for d in DISEASES if getattr(disease_module(d), "ROW_WISE_OBSERVATION", False)])
def test_row_wise_modules_observe_a_stack_as_each_patient_alone(disease):
    """The flag is a promise about the module's observe/responders; this holds it to the numbers on
    read-outs of patients that differ (drawn baselines, treated and untreated, several visits)."""
    sc = load_scenario(dict(SCEN, disease=disease))
    plan = plan_trial(sc)
    tasks = plan.tasks()
    composed = build_model(sc.disease, None, "human", sc.subtype)
    from mscsim.trial import _simulate

    sims = [_simulate(t) for t in tasks]
    values = np.stack([s[0] for s in sims])
    index = _time_index(tuple(tasks[0].obs_times))
    seeds = [t.patient.noise_seed for t in tasks]
    # the stacked path itself (observe_stacked would fall back to one by one if it raised)
    stacked = _observe_rows(composed.disease_module, values, composed.ode.outputs, index,
                            [np.random.default_rng(np.random.SeedSequence(s)) for s in seeds])
    for i, s in enumerate(seeds):
        alone = endpoint_readouts(composed.disease_module, Readouts.from_array(values[i], composed.ode.outputs, index),
                                  np.random.default_rng(np.random.SeedSequence(s)))
        _same(stacked[i], alone)


def test_a_chunk_of_patients_gives_what_each_gives_alone():
    plan = plan_trial(load_scenario(SCEN))
    tasks = plan.tasks()
    together = run_patients(tasks)
    for t, r in zip(tasks, together):
        alone = run_patient(t)
        assert (alone.pid, alone.failed, alone.retried) == (r.pid, r.failed, r.retried)
        _same(alone.observed, r.observed)
        assert np.array_equal(alone.timecourse, r.timecourse)


def test_screening_in_batches_equals_candidate_by_candidate():
    plan = plan_trial(load_scenario(SCEN))
    sc = plan.scenario
    # rebuild the first arm's screener as plan_trial does and screen its first candidates both ways
    from mscsim import parameters
    from mscsim.population import covariate_specs, iiv_table
    from mscsim.trial import arm_settings

    mod = disease_module(sc.disease)
    composed = build_model(sc.disease, None, "human", sc.subtype)
    iiv = iiv_table(composed.ode.params)
    typical = {n: composed.ode.params[n].value for n in iiv}
    typical.update({n: v for n, v in parameters.calibrated(sc.disease).items() if n in typical})
    inclusion = dict(getattr(mod, "INCLUSION", {})) | sc.population.inclusion
    scr = _Screener(sc.disease, sc.subtype, sc.seed, 0, sc.arms[0].name, sc.arms[0].to_regimen(),
                    covariate_specs(sc, mod), iiv, typical, inclusion, plan.obs_times, "compiled",
                    arm_settings(sc, sc.arms[0], mod))
    batch = scr.batch(list(range(8)))
    for k, b in enumerate(batch):
        a = scr(k)
        assert (a.k, a.baseline) == (b.k, b.baseline)
        assert (a.y0 is None) == (b.y0 is None) and (a.y0 is None or np.array_equal(a.y0, b.y0))
    enrolled = [p.candidate for p in plan.patients[sc.arms[0].name]]
    assert enrolled == [b.k for b in batch if b.baseline is not None][:len(enrolled)]


def test_checkpoint_chunks_depend_on_the_trial_size_only():
    assert chunk_size(10) == 4 and chunk_size(1000) == 32 and chunk_size(10000) == 64
    assert all(-(-n // chunk_size(n)) >= 32 for n in (128, 1000, 2047))   # enough chunks to share out


def test_cli_files_are_the_same_with_one_and_two_workers(tmp_path):
    """Two workers draw the figures in a second process and write CSVs from the tables: same files."""
    import yaml

    from mscsim.cli import main

    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(SCEN))
    for w in (1, 2):
        assert main(["trial", str(p), "-o", str(tmp_path / f"w{w}"), "--no-report", "--workers", str(w)]) == 0
    names = sorted(f.name for f in (tmp_path / "w1").iterdir())
    assert names == sorted(f.name for f in (tmp_path / "w2").iterdir())
    assert {"summary.json", "patients.csv", "patients.parquet", "timecourse.png", "responders.png"} <= set(names)
    for n in ("summary.json", "patients.csv", "timecourse.csv", "population.csv"):
        assert (tmp_path / "w1" / n).read_bytes() == (tmp_path / "w2" / n).read_bytes(), n
    assert json.loads((tmp_path / "w2" / "summary.json").read_text())["arms"][0]["n"] == 6
