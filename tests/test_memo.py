"""mscsim.memo.cached_when_hashable: lru_cache for hashable calls, the function for the others."""

from __future__ import annotations

import pytest

from mscsim.memo import cached_when_hashable


def test_hashable_calls_are_cached_and_unhashable_ones_computed_each_time():
    calls = []

    @cached_when_hashable(maxsize=8)
    def total(items):
        calls.append(items)
        return sum(x for pair in items for x in pair)

    assert total(((1, 2), (3, 4))) == 10 and total(((1, 2), (3, 4))) == 10
    assert len(calls) == 1 and total.cache_info().hits == 1
    assert total(((1, 2), [3, 4])) == 10 and total(((1, 2), [3, 4])) == 10  # a list inside: not hashable
    assert len(calls) == 3 and total.cache_info().currsize == 1
    total.cache_clear()
    assert total.cache_info().currsize == 0 and total.__wrapped__(((5, 5),)) == 10


def test_a_type_error_of_the_function_itself_is_raised():
    @cached_when_hashable()
    def fails(x):
        raise TypeError(f"bad {x}")

    with pytest.raises(TypeError, match="bad 1"):
        fails(1)


def test_the_per_patient_caches_give_what_the_functions_give():
    """The regimen's product inputs and the IIV plan are cached per regimen and per IIV table, and
    equal what the functions compute; bounds given as lists are planned for the call."""
    from mscsim.dosing import Dose, Regimen
    from mscsim.population import _iiv_plan
    from mscsim.simulate import _regimen_layer

    reg = Regimen((Dose.parse("1e6 cells/kg", "iv"),))
    assert _regimen_layer(reg) == _regimen_layer.__wrapped__(reg)
    key = ((("k_kill", 0.3), ("ec50_tnf", 0.2)), (("k_kill", (0.0, 1.0)),))
    listed = (key[0], (("k_kill", [0.0, 1.0]),))
    assert _iiv_plan(*key) == _iiv_plan.__wrapped__(*key)
    assert [[(n, o) for n, o, _ in part] for part in _iiv_plan(*listed)] == \
        [[(n, o) for n, o, _ in part] for part in _iiv_plan(*key)]
