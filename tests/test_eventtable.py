"""NONMEM-style dosing event tables (issue 8): read, write, round trip, clear errors."""

import pytest

from mscsim.dosing import Dose, Regimen
from mscsim.errors import MscsimError
from mscsim.eventtable import (CMT_NUMBERS, CMT_ROUTES, read_event_table, read_event_table_weights,
                               regimen_to_rows, rows_to_regimens, write_event_table)

W = 70.0


def admins(reg, w=W):
    return [(a.start, a.duration, a.cells, a.input, a.site, a.product) for a in reg.administrations(w)]


def same_admins(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x[0] == pytest.approx(y[0], rel=1e-12, abs=1e-15)
        assert x[1] == pytest.approx(y[1], rel=1e-12)
        assert x[2] == pytest.approx(y[2], rel=1e-12)
        assert x[3:] == y[3:]


REGIMENS = {
    1: Regimen((Dose.parse("1e6 cells/kg", "iv", infusion="30 min"),)),
    2: Regimen((Dose.parse("1.2e8 cells", "local", site="perianal_fistula", product="ad-msc"),)),
    3: Regimen((Dose.parse("1e7 cells", "intrathecal", every="12 wk", times=3),
                Dose.parse("1.1e6 cells/kg", "intra_arterial", artery="pancreatic", at="1 d", infusion="20 min"))),
    "pt-4": Regimen((Dose.parse("40 mL at 5e5 cells/mL", "intraportal", at="2 h"),)),
    5: Regimen(),
}


def test_round_trip_keeps_every_administration(tmp_path):
    path = write_event_table(REGIMENS, tmp_path / "ev.csv", weight_kg=W)
    back = read_event_table(path)
    # a patient without doses has no rows, so it does not come back
    assert list(back) == [1, 2, 3, "pt-4"]
    for pid, reg in back.items():
        same_admins(admins(reg), admins(REGIMENS[pid]))
        for d0, d1 in zip(sorted(REGIMENS[pid], key=lambda d: d.at), reg):
            assert (d1.route, d1.artery, d1.site, d1.times, d1.product) == (d0.route, d0.artery, d0.site,
                                                                             d0.times, d0.product)
            assert d1.every == d0.every
            assert not d1.amount.per_kg          # AMT is in cells
    assert read_event_table_weights(path) == {1: W, 2: W, 3: W, "pt-4": W}
    # and once more: a read table written again is the same text
    again = write_event_table(back, tmp_path / "again.csv", weight_kg=W)
    assert again.read_text() == path.read_text()


def test_written_table_is_plain_nonmem_csv(tmp_path):
    path = write_event_table(REGIMENS[3], tmp_path / "ev.csv", weight_kg=W)
    lines = path.read_text().splitlines()
    assert lines[0] == "ID,TIME,AMT,CMT,EVID,RATE,II,ADDL,SITE,PRODUCT,WT"
    assert lines[1] == "1,0,10000000,it,1,0,84,2,.,msc,70"
    cells = 1.1e6 * W
    f = lines[2].split(",")
    assert f[:2] == ["1", "1"] and f[3:5] == ["ia_pancreatic", "1"] and f[6:8] == ["0", "0"]
    assert float(f[2]) == cells and float(f[5]) == cells / (20 / 1440)      # exact (repr of floats)
    # numeric compartments for NONMEM itself
    path = write_event_table(REGIMENS[3], tmp_path / "num.csv", weight_kg=W, numeric_cmt=True)
    assert [ln.split(",")[3] for ln in path.read_text().splitlines()[1:]] == ["3", "6"]
    same_admins(admins(read_event_table(path)[1]), admins(REGIMENS[3]))


def test_cmt_codes_cover_every_route_input():
    from mscsim.dosing import ARTERIES, INPUT_OF_ROUTE

    inputs = set(INPUT_OF_ROUTE.values()) | {f"in_ia_{a}" for a in ARTERIES}
    assert {f"in_{c}" for c in CMT_ROUTES} == inputs
    assert set(CMT_NUMBERS.values()) == set(CMT_ROUTES)


def test_reads_nonmem_conventions(tmp_path):
    p = tmp_path / "nm.csv"
    p.write_text(
        "#ID,TIME,AMT,CMT,EVID,RATE,II,ADDL,SS,MDV,DV,AGE\n"
        "# a comment\n"
        "C,ignored row,,,,,,,,,,\n"
        "1,0,7e7,1,1,0,.,.,0,1,.,45\n"
        "1,1,.,.,0,.,.,.,.,0,3.2,45\n"        # observation record: skipped
        "1,7,7e7,in_iv,1,.,.,.,.,1,.,45\n"
        "2,0,1e7,intrathecal,1,0,84,1,0,1,.,30\n"
    )
    regs = read_event_table(p)
    assert [a[:4] for a in admins(regs[1])] == [(0.0, 1 / 1440, 7e7, "in_iv"), (7.0, 1 / 1440, 7e7, "in_iv")]
    assert [a[0] for a in admins(regs[2])] == [0.0, 84.0]
    # lower-case headers and whitespace separation (mrgsolve / rxode2 style)
    q = tmp_path / "ws.txt"
    q.write_text("id time amt cmt rate\n1 0.5 2e7 ia_hepatic 4.8e8\n")
    (a,) = admins(read_event_table(q)[1])
    assert a[:4] == (0.5, pytest.approx(2e7 / 4.8e8), 2e7, "in_ia_hepatic")


def test_table_regimen_simulates_like_the_dose_grammar(tmp_path):
    from mscsim.simulate import simulate

    p = tmp_path / "ev.csv"
    p.write_text("ID,TIME,AMT,CMT,RATE\n1,0,7e7,iv,3.36e9\n")
    (reg,) = read_event_table(p).values()
    direct = Regimen((Dose.parse("7e7 cells", "iv", infusion="30 min"),))
    a = simulate(reg, 3, injury=("liver", 0.5))
    b = simulate(direct, 3, injury=("liver", 0.5))
    assert a.outputs["msc_lung_pct"].to_numpy() == pytest.approx(b.outputs["msc_lung_pct"].to_numpy(), rel=1e-9)


@pytest.mark.parametrize("body,column,needle", [
    ("1,0,1e6,ivv,1,0,0,0", "CMT", "did you mean 'iv'"),
    ("1,0,1e6,12,1,0,0,0", "CMT", "unknown CMT number"),
    ("1,-1,1e6,iv,1,0,0,0", "TIME", "negative"),
    ("1,0,abc,iv,1,0,0,0", "AMT", "not a number"),
    ("1,0,0,iv,1,0,0,0", "AMT", "must be positive"),
    ("1,0,1e6,iv,1,-2,0,0", "RATE", "modelled rate"),
    ("1,0,1e6,iv,1,0,0,2", "II", "ADDL > 0 needs an interval"),
    ("1,0,1e6,iv,1,0,7,1.5", "ADDL", "whole number"),
    ("1,0,1e6,iv,4,0,0,0", "EVID", "reset"),
    ("1,0,1e6,iv,9,0,0,0", "EVID", "not a NONMEM event id"),
    ("1,0,1e6,iv,1,1e5,1,2", "RATE", "longer than the interval"),
    ("1,0,1e6,.,1,0,0,0", "CMT", "CMT is required"),
])
def test_bad_values_name_line_and_column(tmp_path, body, column, needle):
    p = tmp_path / "bad.csv"
    p.write_text("ID,TIME,AMT,CMT,EVID,RATE,II,ADDL\n" + body + "\n")
    with pytest.raises(MscsimError) as e:
        read_event_table(p)
    msg = str(e.value)
    assert f"bad.csv, line 2, column {column}:" in msg and needle in msg, msg
    assert "\n" not in msg


@pytest.mark.parametrize("text,needle", [
    ("ID,TIME,AMT,CMT,SITE\n1,0,1e8,local,.\n", "column SITE: CMT local needs a SITE; accepted:"),
    ("ID,TIME,AMT,CMT,SITE\n1,0,1e8,local,elbow\n", "column SITE: unknown site 'elbow'"),
    ("ID,TIME,AMT,CMT,SITE\n1,0,1e8,iv,joint\n", "column SITE: SITE is only for CMT local"),
    ("ID,TIME,AMT,CMT,PRODUCT\n1,0,1e8,iv,magic\n", "column PRODUCT: unknown product 'magic'"),
    ("ID,TIME,AMT,CMT,SS\n1,0,1e8,iv,1\n", "column SS: SS (steady-state dosing) is not supported"),
    ("ID,TIME,AMT,CMT,SITE\n1,0,1e8,local,joint\n1,9,1e8,local,liver\n", "ID 1: one local injection site"),
    ("ID,TIME,CMT\n1,0,iv\n", "missing required column(s) AMT"),
    ("ID,TIME,AMT,CMT\n1,0,1e8\n", "line 2: 3 values for 4 columns"),
    ("ID,TIME,TIME,AMT,CMT\n", "column TIME appears twice"),
    ("", "no header line"),
])
def test_schema_errors(tmp_path, text, needle):
    p = tmp_path / "t.csv"
    p.write_text(text)
    with pytest.raises(MscsimError, match=None) as e:
        read_event_table(p)
    assert needle in str(e.value), str(e.value)


def test_per_kg_doses_need_a_weight_to_become_cells(tmp_path):
    with pytest.raises(MscsimError, match="per kg"):
        write_event_table(REGIMENS[1], tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()
    rows = regimen_to_rows(REGIMENS[1], 9, weight_kg=80)
    assert rows[0]["AMT"] == pytest.approx(8e7) and rows[0]["ID"] == 9 and rows[0]["WT"] == 80
    regs = rows_to_regimens([{k: str(v) for k, v in r.items()} for r in rows])
    assert admins(regs[9], 80) == admins(REGIMENS[1], 80)
