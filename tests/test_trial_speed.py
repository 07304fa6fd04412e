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
    from mscsim.safety import safety_rng
    from mscsim.trial import _simulate

    sims = [_simulate(t, safety_rng(t.patient.noise_seed)) for t in tasks]
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


def test_readouts_as_one_table_keep_every_value_and_dtype():
    """`Readouts.table` and pickling move a patient's read-outs as one array; a column that is not
    float keeps its dtype (no table, pickled column by column)."""
    import pickle

    index = _time_index((0.0, 30.0, 90.0))
    cols = {"a": np.array([1.0, 2.0, 3.0]), "b": np.array([0.5, np.nan, -1.0])}
    r = Readouts(cols, index)
    assert np.array_equal(r.table(), np.column_stack([cols["a"], cols["b"]]), equal_nan=True)
    assert np.array_equal(r.table(["b"]), cols["b"][:, None], equal_nan=True)
    arr = Readouts.from_array(np.column_stack([cols["a"], cols["b"]]), ("a", "b"), index)
    for x in (r, arr):
        _same(pickle.loads(pickle.dumps(x)), arr)
        assert x.row(0) == {"a": 1.0, "b": 0.5} and x.row(2) == {"a": 3.0, "b": -1.0}
        assert list(x.row(1)) == ["a", "b"] and x.row(1)["a"] == 2.0 and np.isnan(x.row(1)["b"])
    mixed = Readouts({"a": cols["a"], "n": np.array([1, 2, 3])}, index)
    assert mixed.table() is None
    back = pickle.loads(pickle.dumps(mixed))
    assert back["n"].dtype == mixed["n"].dtype and back.columns == ["a", "n"]


def test_safety_columns_join_the_observations_as_a_dict_merge_would():
    from mscsim.trial import _with_columns

    index = _time_index((0.0, 90.0))
    obs = Readouts.from_array(np.arange(6.0).reshape(2, 3), ("x", "fever", "y"), index)
    extra = {"fever": np.array([0.0, 1.0]), "d_dimer": np.array([300.0, 310.0])}
    want = Readouts({**{c: obs[c] for c in obs.columns}, **extra}, index)
    _same(_with_columns(obs, extra), want)
    assert _with_columns(obs, extra).columns == ["x", "fever", "y", "d_dimer"]


def test_the_screening_parameter_vector_reaches_the_simulation_only_while_its_inputs_hold():
    from mscsim.calibrate import overridden
    from mscsim.trial import _patient_vector

    sc = load_scenario(SCEN)
    plan = plan_trial(sc)
    composed = build_model(sc.disease, None, "human", sc.subtype)
    tasks = plan.tasks()
    assert all(t.p is not None and np.array_equal(t.p, _patient_vector(composed, t.patient, t.regimen))
               for t in tasks)
    tasks[0].patient.params["k_tnf_deg"] = 1.0          # changed after screening (as calibrate does)
    again = plan.tasks()
    assert again[0].p is None and all(t.p is not None for t in again[1:])
    with overridden(sc.disease, {}):                     # other calibrated values: every vector is made anew
        assert all(t.p is None for t in plan.tasks())


def test_arm_block_gives_the_pandas_means_and_counts():
    """The safety block on NumPy columns equals pandas' NaN-skipping means and sums, to the bit."""
    import pandas as pd

    from mscsim.safety import EVENTS, arm_block

    rng = np.random.default_rng(3)
    n = 37
    table = {"arm": list(rng.choice(["a", "b", "c"], n)), "patient": [f"p{i}" for i in range(n)]}
    for e in EVENTS:
        table[f"risk_{e}"] = list(rng.random(n) * 0.3)
        ev = (rng.random(n) < 0.2).astype(float)
        ev[rng.random(n) < 0.1] = np.nan
        table[f"event_{e}"] = list(ev)
    table["d_dimer_peak"] = list(rng.lognormal(6.0, 0.5, n))
    got = arm_block(table, ["a", "b", "c", "none"], "b")
    df = pd.DataFrame(table)
    assert arm_block(df, ["a", "b", "c", "none"], "b") == got
    ctrl = df[df["arm"] == "b"]
    for arm in got["arms"]:
        sel = df[df["arm"] == arm["name"]]
        assert arm["n"] == len(sel)
        if not len(sel):
            assert arm["d_dimer_peak_mean"] is None
            continue
        assert arm["d_dimer_peak_mean"] == float(sel["d_dimer_peak"].mean())
        assert arm["d_dimer_over_500"] == float((sel["d_dimer_peak"] >= 500.0).mean())
        for e in EVENTS:
            got_e = arm["events"][e]
            assert got_e["risk"] == float(sel[f"risk_{e}"].mean())
            assert got_e["events"] == int(sel[f"event_{e}"].sum())
            if arm["name"] != "b":
                assert got_e["risk_ratio"] == float(sel[f"risk_{e}"].mean()) / float(ctrl[f"risk_{e}"].mean())


def test_new_covariates_and_scenario_iiv_draw_from_their_own_streams():
    """Streams are made only when drawn from (issue 19), so each must still be the documented one:
    spawn key (arm, k, 3) for covariates beyond weight and age, (arm, k, 4) for IIV names without a
    table CV, (arm, k) for the classic covariates and tabled IIV."""
    import math

    from mscsim.population import DEFAULT_COVARIATES, draw_candidate
    from mscsim.scenario import CovariateSpec

    covs = dict(DEFAULT_COVARIATES) | {"disease_duration_y": CovariateSpec(mean=8.0, sd=3.0, min=0.0, max=60.0)}
    cov, params, _ = draw_candidate(5, 1, 7, covs, {"potency": 0.2}, {"potency": 1.0})
    new = np.random.default_rng(np.random.SeedSequence(entropy=5, spawn_key=(1, 7, 3)))
    x = 8.0 + 3.0 * new.standard_normal()
    while not 0.0 <= x <= 60.0:
        x = 8.0 + 3.0 * new.standard_normal()
    assert cov["disease_duration_y"] == x
    iiv = np.random.default_rng(np.random.SeedSequence(entropy=5, spawn_key=(1, 7, 4)))
    assert params["potency"] == 1.0 * math.exp(math.sqrt(math.log(1.0 + 0.2**2)) * iiv.standard_normal())
    classic = np.random.default_rng(np.random.SeedSequence(entropy=5, spawn_key=(1, 7)))
    w = 70.0 + 12.0 * classic.standard_normal()
    while not 40.0 <= w <= 140.0:
        w = 70.0 + 12.0 * classic.standard_normal()
    assert cov["weight_kg"] == w
    alone, _, _ = draw_candidate(5, 1, 7, dict(DEFAULT_COVARIATES), {}, {})
    assert alone["weight_kg"] == w and "disease_duration_y" not in alone


def test_resumed_chunks_and_chunks_run_now_assemble_to_the_same_trial(tmp_path):
    """Chunks run in this call are assembled from memory, earlier ones from their files: a trial
    resumed after losing some chunk files equals the uninterrupted one, table for table."""
    import pandas as pd

    from mscsim.checkpoint import run_trial_resumable

    sc = load_scenario(SCEN)
    first = run_trial_resumable(sc, tmp_path, fresh=True, progress=False, chunk=4)
    files = sorted((tmp_path / ".checkpoint").glob("chunk_*.npz"))
    assert len(files) == 3
    files[1].unlink()
    again = run_trial_resumable(sc, tmp_path, progress=False, chunk=4)
    assert json.dumps(first.summary, sort_keys=True) == json.dumps(again.summary, sort_keys=True)
    for name in ("patients", "timecourse", "population", "safety"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(again, name), check_exact=True)


def test_parameter_vector_layers_the_table_calibration_body_product_and_overrides():
    """Each entry is the last layer's value that names it (table, calibration, body, product,
    overrides), whatever calibration was used just before; the model keeps one calibrated vector."""
    from mscsim import parameters
    from mscsim.calibrate import overridden
    from mscsim.dosing import Dose, Regimen
    from mscsim.physiology import make_body
    from mscsim.products import product_inputs
    from mscsim.simulate import parameter_vector

    composed = build_model("ra")
    m = composed.ode
    names = list(m.params)
    reg = Regimen((Dose.parse("2e6 cells/kg", "iv"),))

    def expected(cal, weight, over):
        vals = {n: m.params[n].value for n in names}
        vals.update({k: v for k, v in cal.items() if k in vals})
        body = make_body("human", weight, composed.target)
        layer = {"BW": body.weight_kg, "Q_CO": body.cardiac_output, "V_ven": body.v_ven, "V_art": body.v_art,
                 "V_csf": body.csf_volume, "Q_csf": body.csf_flow, **{f"Q_{c}": q for c, q in body.flows.items()},
                 "mass_target": body.masses.get("target"), **product_inputs(reg.product_spec), **over}
        vals.update({k: v for k, v in layer.items() if k in vals})
        return np.array([vals[n] for n in names])

    shipped = parameters.calibrated("ra")
    theta = {k: 1.1 * v for k, v in shipped.items()}
    over = {"D_ra_t": 0.7 * m.params["D_ra_t"].value, "trial_on": 1.0}
    for weight in (55.0, 90.0):
        got = parameter_vector(composed, weight_kg=weight, regimen=reg, overrides=over)
        np.testing.assert_array_equal(got, expected(shipped, weight, over))
        with overridden("ra", theta):
            drawn = parameter_vector(composed, weight_kg=weight, regimen=reg, overrides=over)
        np.testing.assert_array_equal(drawn, expected(theta, weight, over))
        assert not np.array_equal(drawn, got) or not theta
        np.testing.assert_array_equal(parameter_vector(composed, weight_kg=weight, regimen=reg, overrides=over), got)
    assert m.__dict__["_derived"]["calibrated_vector"][0] == tuple(shipped.items())  # one kept: the last calibration's
    with pytest.raises(Exception, match="unknown parameter"):
        parameter_vector(composed, overrides={"no_such_parameter": 1.0})
    parameter_vector(composed, overrides={"d_cell": 20.0})  # a product input name is accepted, as before


def test_observations_gathered_from_one_stack_equal_reads_patient_by_patient():
    """`assemble` reads a column at a time row for all of an arm's patients from one stacked array
    when they share a table layout; the values equal the per-patient reads, a column a patient lacks
    gives the value asked for (or KeyError), and patients held column by column take the slow path."""
    from mscsim.trial import PatientResult, _Observed

    index = _time_index((0.0, 30.0, 90.0))
    names = ("x", "fever", "y")
    rng = np.random.default_rng(4)
    shared = [PatientResult(f"a-{i}", "a", Readouts.from_array(rng.normal(size=(3, 3)), names, index), None)
              for i in range(5)]
    loose = [PatientResult("b-0", "b", Readouts({"x": np.array([1.0, 2.0, 3.0])}, index), None),
             PatientResult("b-1", "b", Readouts.from_array(rng.normal(size=(3, 3)), names, index), None)]
    fast, slow = _Observed(shared), _Observed(loose)
    assert fast.stack is not None and slow.stack is None
    for obs in (fast, slow):
        for row in (0, 1, -1):
            want = [float(r.observed._column("x")[row]) for r in obs.results]
            assert obs.at("x", row).tolist() == want
            got = obs.at("fever", row, missing=float("nan"))
            ref = [float(r.observed._column("fever")[row]) if "fever" in r.observed else float("nan")
                   for r in obs.results]
            np.testing.assert_array_equal(got, ref)
    assert np.isnan(fast.at("nothing", 0, missing=float("nan"))).all()
    with pytest.raises(KeyError):
        fast.at("nothing", 0)
    with pytest.raises(KeyError):
        slow.at("fever", 0)
    assert _Observed([]).at("x", 0).shape == (0,)
