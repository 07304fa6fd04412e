"""The batched random streams are numpy's own streams, bit for bit (mscsim.streams, issue 19)."""

import numpy as np
import pytest

from mscsim import streams
from mscsim.population import DEFAULT_COVARIATES, candidate_streams, draw_candidate, draw_traits, screening_rng, screening_rngs
from mscsim.safety import safety_rng, safety_rngs


def _numpy(entropy, spawn_key=()):
    return np.random.default_rng(np.random.SeedSequence(entropy=entropy, spawn_key=tuple(spawn_key)))


def _same(a: np.random.Generator, b: np.random.Generator) -> bool:
    """Same state, and the same next draws of several kinds."""
    if a.bit_generator.state != b.bit_generator.state:
        return False
    return (np.array_equal(a.integers(0, 2**63, 5), b.integers(0, 2**63, 5))
            and np.array_equal(a.standard_normal(5), b.standard_normal(5)) and a.random() == b.random())


def _keys(n: int, seed: int = 0) -> list:
    """Entropies and spawn keys of every shape the package uses and more: integers of 1-3 words,
    0, lists and tuples of integers (some above 2**32), with spawn keys of 0-4 integers."""
    rs = np.random.default_rng(seed)
    keys = []
    for i in range(n):
        kind = i % 6
        if kind == 0:
            e = int(rs.integers(0, 2**32))
        elif kind == 1:
            e = [int(x) for x in rs.integers(0, 2**31, rs.integers(1, 9))]
        elif kind == 2:
            e = int(rs.integers(1, 2**62)) * int(rs.integers(1, 2**40))
        elif kind == 3:
            e = tuple(int(x) for x in rs.integers(0, 60, 4))
        elif kind == 4:
            e = 0
        else:
            e = [int(rs.integers(0, 2**40)), 0, int(rs.integers(0, 5000)), 1]
        spawn = tuple(int(x) for x in rs.integers(0, 2**33 if i % 7 == 0 else 5000, rs.integers(0, 5)))
        keys.append((e, spawn))
    return keys


def test_batched_streams_equal_numpys_for_every_shape_of_entropy(monkeypatch):
    monkeypatch.setattr(streams, "_SMALL", 1)  # the batched hashing for every group, however small
    keys = _keys(1200)
    got = streams.generators(keys)
    assert len(got) == len(keys)
    bad = [k for k, g in zip(keys, got) if not _same(g, _numpy(*k))]
    assert bad == []


def test_one_stream_and_an_empty_batch():
    (g,) = streams.generators([(42, (0, 7))])
    assert _same(g, _numpy(42, (0, 7)))
    assert streams.generators([]) == []


def test_the_self_check_compares_the_batched_hashing_with_numpy(monkeypatch):
    assert streams._self_check()
    broken = streams._pcg64_seeds
    monkeypatch.setattr(streams, "_pcg64_seeds", lambda words: broken(words) + np.uint64(1))
    assert not streams._self_check()


def test_entropy_longer_than_the_hashed_words_goes_to_numpy():
    keys = [(list(range(1, 30)), (k,)) for k in range(20)]
    assert all(_same(g, _numpy(*k)) for g, k in zip(streams.generators(keys), keys))


def test_assembled_entropy_pads_the_run_entropy_only_with_a_spawn_key():
    assert streams.assembled_entropy(5) == (5,)
    assert streams.assembled_entropy(5, (1, 2)) == (5, 0, 0, 0, 1, 2)
    assert streams.assembled_entropy(2**32 + 7, (3,)) == (7, 1, 0, 0, 3)
    assert streams.assembled_entropy([1, 2, 3, 4, 5], (9,)) == (1, 2, 3, 4, 5, 9)
    with pytest.raises(ValueError):
        streams.assembled_entropy(-1)


def test_numpys_own_path_is_used_when_the_self_check_fails(monkeypatch):
    monkeypatch.setattr(streams, "_CHECKED", [False])
    monkeypatch.setattr(streams, "_fast", lambda keys: pytest.fail("the fast path was used"))
    (g,) = streams.generators([(7, (1,))])
    assert _same(g, _numpy(7, (1,)))


def test_the_package_streams_equal_their_one_at_a_time_versions():
    seeds = [(42, 0, k, 1) for k in range(30)] + [(2**33 + 1, 1, 7, 1)]
    # the streams each one's contract names (numpy's own construction), batched and one at a time
    assert all(_same(a, _numpy(list(s), (9,))) and _same(screening_rng(s), _numpy(list(s), (9,)))
               for a, s in zip(screening_rngs(seeds), seeds))
    assert all(_same(a, _numpy(list(s), (7,))) and _same(safety_rng(s), _numpy(list(s), (7,)))
               for a, s in zip(safety_rngs(seeds), seeds))
    ks = list(range(20))
    first, traits = candidate_streams(11, 1, ks), candidate_streams(11, 1, ks, 2)
    assert all(_same(a, _numpy(11, (1, k))) and _same(t, _numpy(11, (1, k, 2))) for k, a, t in zip(ks, first, traits))
    first, traits = candidate_streams(11, 1, ks), candidate_streams(11, 1, ks, 2)  # fresh: the above drew
    cov = {"weight_kg": DEFAULT_COVARIATES["weight_kg"]}
    for k, a, t in zip(ks, first, traits):
        assert draw_candidate(11, 1, k, cov, {"potency": 0.3}, {"potency": 1.0}, rng=a) == \
            draw_candidate(11, 1, k, cov, {"potency": 0.3}, {"potency": 1.0})
        assert draw_traits(11, 1, k, {"allo_sensitised": None}, t) == draw_traits(11, 1, k, {"allo_sensitised": None})


def test_uniform_draws_made_at_once_equal_draws_made_one_by_one():
    """safety.patient_safety draws its uniforms in one call; a generator's doubles come in
    sequence either way, and the next normal draw continues from the same state."""
    a, b = _numpy(3, (7,)), _numpy(3, (7,))
    one_by_one = [a.random() for _ in range(37)]
    assert b.random(37).tolist() == one_by_one
    assert a.standard_normal() == b.standard_normal()
