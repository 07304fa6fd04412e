"""Readouts: the per-patient observation container of a trial (issue 19: arrays, not DataFrames)."""

import pickle

import numpy as np
import pandas as pd

from mscsim.diseases.base import Readouts


def _index():
    return pd.Index([0.0, 90.0, 365.0], name="time_d")


def test_from_array_reads_columns_and_rows():
    values = np.arange(12, dtype=float).reshape(3, 4)
    r = Readouts.from_array(values, ["a", "b", "c", "d"], _index())
    assert r.columns == ["a", "b", "c", "d"] and len(r) == 3 and "c" in r and "z" not in r
    assert np.array_equal(r["c"], values[:, 2]) and r["c"].to_numpy().shape == (3,)
    assert r.row(1) == {"a": 4.0, "b": 5.0, "c": 6.0, "d": 7.0}
    pd.testing.assert_frame_equal(r.to_frame(), pd.DataFrame(values, index=_index(), columns=list("abcd")))


def test_pickle_round_trip_keeps_values_and_dtypes():
    floats = Readouts({"x": np.array([1.5, np.nan, 3.0]), "y": np.array([0.1, 0.2, 0.3])}, _index())
    mixed = Readouts({"x": np.array([1.5, 2.5, 3.0]), "resp": np.array([True, False, True])}, _index())
    for r in (floats, mixed):
        back = pickle.loads(pickle.dumps(r))
        assert back.columns == r.columns
        assert list(back.index) == list(r.index) and back.index.name == "time_d"
        for c in r.columns:
            assert back[c].dtype == r[c].dtype
            assert np.array_equal(back[c], r[c], equal_nan=True)
