"""PEtab export (issue 20, item 1): the calibration problem of a disease as a PEtab v1 problem that
the PEtab linter accepts, and whose objective, evaluated from the written files by an independent
simulator (libRoadRunner + petab's own chi2/log-likelihood), equals mscsim's typical-patient
objective computed with mscsim's own engine."""

import math

import numpy as np
import pytest

petab = pytest.importorskip("petab")
pytest.importorskip("roadrunner")

import petab.v1 as petab_v1  # noqa: E402

from mscsim import parameters  # noqa: E402
from mscsim.calibrate import calibration_parameters, calibration_targets, transforms  # noqa: E402
from mscsim.cli import main  # noqa: E402
from mscsim.petab import build_problem, petab_objective, simulate_petab, typical_values  # noqa: E402
from mscsim.trial import endpoint_stat  # noqa: E402

RTOL = 1e-4        # agreement asked for between the two simulators


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """disease -> (PetabProblem, problem.yaml path), built and written once per disease."""
    cache = {}

    def get(disease):
        if disease not in cache:
            pb = build_problem(disease)
            cache[disease] = (pb, pb.write(tmp_path_factory.mktemp(f"petab_{disease}")))
        return cache[disease]

    return get


@pytest.mark.parametrize("disease", ["ms", "ibd", "liver", "t1d"])
def test_written_problem_lints_clean(written, disease):
    pb, yaml_path = written(disease)
    assert pb.lint() == []
    problem = petab_v1.Problem.from_yaml(str(yaml_path))      # the files, read back by petab
    assert petab_v1.lint_problem(problem) is False            # False = no errors
    assert len(problem.measurement_df) == len(pb.exported) > 0


@pytest.mark.parametrize("disease", ["ms", "ibd"])
def test_tables_carry_the_calibration_records_and_parameters(written, disease):
    pb, yaml_path = written(disease)
    problem = petab_v1.Problem.from_yaml(str(yaml_path))
    _, targets = calibration_targets(disease)
    # every calibration target is either a measurement or listed as not exported, with its reason
    exported = {e.target.record for e in pb.exported}
    assert exported | {s.record for s in pb.skipped} == {t.record for t in targets}
    assert not exported & {s.record for s in pb.skipped}
    for s in pb.skipped:          # only proportions (responders/events) are left out for these diseases
        assert endpoint_stat(disease, s.endpoint) == "proportion" and "proportion" in s.reason
    mdf = problem.measurement_df.set_index("datasetId")
    for e in pb.exported:
        row = mdf.loc[e.target.record.replace("#", "_")]
        assert row["measurement"] == e.target.value and row["time"] == e.target.at_days
        assert float(row["noiseParameters"]) == e.target.se        # the published SE of the arm
    # estimated = the disease's calibration parameters present in the model, at their calibrated values
    pdf = problem.parameter_df
    names = [n for n in calibration_parameters(disease) if n not in pb.not_in_model]
    assert list(pdf.index) == names and (pdf["estimate"] == 1).all()
    reg, cal = parameters.registry(), parameters.calibrated(disease)
    for n, tr in zip(names, transforms(names)):
        assert (pdf.loc[n, "lowerBound"], pdf.loc[n, "upperBound"]) == tuple(reg[n].bounds)
        assert pdf.loc[n, "nominalValue"] == pytest.approx(cal[n], rel=1e-12)
        assert pdf.loc[n, "parameterScale"] == ("log10" if tr.log else "lin")


def test_refuses_an_estimated_parameter_that_moves_the_baseline(monkeypatch):
    """The initial state is written as numbers; a parameter that moves mscsim's untreated baseline
    (here D_ms_t, the autoimmune drive inside the CNS) cannot be estimated in that problem."""
    import mscsim.diseases.ms as ms
    from mscsim.errors import MscsimError

    monkeypatch.setattr(ms, "CALIBRATION_PARAMETERS", ["a_remyel_msc_ms", "D_ms_t"], raising=False)
    with pytest.raises(MscsimError, match="baseline depends on the estimated parameter D_ms_t"):
        build_problem("ms")


def _agree(pb, yaml_path, disease, theta=None):
    ref = typical_values(disease, theta=theta)                  # mscsim's engine
    problem = petab_v1.Problem.from_yaml(str(yaml_path))
    sim = simulate_petab(problem, theta)                        # the PEtab files + libRoadRunner
    args = (problem.measurement_df, sim, problem.observable_df, problem.parameter_df)
    obj = {"chi2": petab_v1.calculate_chi2(*args), "llh": petab_v1.calculate_llh(*args)}   # petab's own
    chi2_ref = float(np.sum(ref["z"].to_numpy() ** 2))
    # per measurement (same order: both follow the exported targets)
    a, b = sim["simulation"].to_numpy(float), ref["typical"].to_numpy(float)
    scale = np.maximum(np.abs(b), ref["se"].to_numpy(float))
    assert np.max(np.abs(a - b) / scale) < RTOL, (a, b)
    assert obj["chi2"] == pytest.approx(chi2_ref, rel=RTOL)
    # PEtab's log-likelihood is the same least squares plus the normal constant
    se = ref["se"].to_numpy(float)
    assert obj["llh"] == pytest.approx(-0.5 * chi2_ref - np.sum(np.log(np.sqrt(2 * math.pi) * se)), rel=RTOL)
    return chi2_ref


@pytest.mark.parametrize("disease", ["ms", "ibd", "t1d", "liver"])
def test_petab_objective_equals_mscsim_typical_objective(written, disease):
    pb, yaml_path = written(disease)
    chi2_cal = _agree(pb, yaml_path, disease)
    # away from the calibrated values too: the estimated parameters reach both simulations
    pdf = pb.parameter_df
    theta = {n: float(pdf.loc[n, "lowerBound"] + 0.3 * (pdf.loc[n, "upperBound"] - pdf.loc[n, "lowerBound"]))
             for n in pdf.index}
    chi2_other = _agree(pb, yaml_path, disease, theta)
    assert chi2_other != pytest.approx(chi2_cal, rel=1e-3)


def test_cli_export_petab_writes_a_valid_problem(tmp_path, capsys):
    out = tmp_path / "ibd"
    assert main(["export-petab", "--disease", "ibd", "-o", str(out), "--check"]) == 0
    text = capsys.readouterr().out
    assert "PEtab lint: no errors" in text and "not in this model" in text
    line = next(x for x in text.splitlines() if x.startswith("objective at the calibrated values"))
    ref, pe = (float(x.split("chi2 = ")[1].split(";")[0].split(" ")[0]) for x in line.split("; PEtab"))
    assert pe == pytest.approx(ref, rel=RTOL)
    assert petab_objective(out / "problem.yaml")["chi2"] == pytest.approx(ref, rel=RTOL)
    for f in ("model.xml", "conditions.tsv", "observables.tsv", "measurements.tsv", "parameters.tsv",
              "problem.yaml"):
        assert (out / f).is_file()
    assert petab_v1.lint_problem(petab_v1.Problem.from_yaml(str(out / "problem.yaml"))) is False


@pytest.mark.parametrize("args, message", [
    (["--disease", "gout"], "unknown disease 'gout'"),
    (["--disease", "ra"], "no calibration record a PEtab problem can hold"),   # ACR20 only: proportions
    (["--disease", "ibd", "--subtype", "crohn"], "unknown ibd subtype 'crohn'"),
])
def test_cli_export_petab_bad_disease(tmp_path, capsys, args, message):
    assert main(["export-petab", *args, "-o", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_cli_export_petab_unwritable_out(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("")
    assert main(["export-petab", "--disease", "ms", "-o", str(f)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not a folder" in err[0]
    # a folder that cannot be created (its parent is a file): refused before any work
    assert main(["export-petab", "--disease", "ms", "-o", str(f / "sub")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot create" in err[0]
