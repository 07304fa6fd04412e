"""The virtual patients' random streams, made many at a time (issue 19).

Every patient draws from streams of his own, each ``numpy.random.default_rng(SeedSequence(entropy,
spawn_key))`` with an entropy and spawn key fixed by (scenario seed, arm, candidate, purpose), so
results do not depend on how the work is split. Making one such generator costs 20-40 us, most of
it ``SeedSequence`` hashing a handful of 32-bit words one numpy call at a time; a trial makes about
five per patient (candidate draws, traits, screening visit, trial visits, safety), 10-15 % of a
trial's CPU time [measured, issue 19].

`generators` makes the same generators for a whole batch of streams: the hashing of numpy's
``SeedSequence`` (M. E. O'Neill's ``seed_seq`` design as numpy implements it in
``numpy/random/bit_generator.pyx``, a documented, reproducibility-stable algorithm since numpy
1.17: hash the assembled entropy into a pool of 4 words, then hash the pool into the output words)
runs on all the streams at once as uint32 array operations, and each ``PCG64`` is seeded with its
words through numpy's public ``ISeedSequence`` interface. The generators are the ones numpy makes,
bit for bit: tests/test_streams.py compares them over many entropies and spawn keys, and the first
use in a process checks one against numpy and falls back to numpy's own path if they ever differ.
Written here because numpy has no batched ``SeedSequence`` [design choice].
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.random.bit_generator import ISeedSequence

# numpy's SeedSequence constants (bit_generator.pyx; O'Neill's seed_seq)
_INIT_A = np.uint32(0x43B0D7E5)
_MULT_A = np.uint32(0x931E8875)
_INIT_B = np.uint32(0x8B51F9DD)
_MULT_B = np.uint32(0x58F38DED)
_MIX_MULT_L = np.uint32(0xCA01F9DD)
_MIX_MULT_R = np.uint32(0x4973F715)
_XSHIFT = np.uint32(16)
_POOL = 4
_MASK32 = 0xFFFFFFFF


def _words(x) -> list[int]:
    """``x`` (a non-negative integer or a sequence of them) as numpy's SeedSequence coerces it: the
    little-endian 32-bit words of each integer (0 is one word), concatenated."""
    if isinstance(x, (int, np.integer)):
        n = int(x)
        if n < 0:
            raise ValueError("expected non-negative integer")
        if n == 0:
            return [0]
        out = []
        while n:
            out.append(n & _MASK32)
            n >>= 32
        return out
    out = []
    for v in x:
        out += _words(v)
    return out


def assembled_entropy(entropy, spawn_key: Sequence[int] = ()) -> tuple[int, ...]:
    """The words ``SeedSequence(entropy, spawn_key=spawn_key)`` hashes into its pool: the entropy's
    words, padded with zeros to the pool size when there is a spawn key, then the spawn key's."""
    run = _words(entropy)
    spawn = _words(spawn_key)
    if spawn and len(run) < _POOL:
        run += [0] * (_POOL - len(run))
    return tuple(run + spawn)


def _hashmix(value: np.ndarray, h: list) -> np.ndarray:
    """O'Neill's hashmix on a column of words; ``h[0]`` is the running hash constant (updated)."""
    value = value ^ h[0]
    h[0] = h[0] * _MULT_A
    value = value * h[0]
    return value ^ (value >> _XSHIFT)


def _mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r = _MIX_MULT_L * x - _MIX_MULT_R * y
    return r ^ (r >> _XSHIFT)


def _pcg64_seeds(entropy: np.ndarray) -> np.ndarray:
    """(N, 4) uint64: ``SeedSequence.generate_state(4, uint64)`` of N streams of equal length
    (``entropy``: (N, L) uint32 assembled entropy)."""
    n, length = entropy.shape
    with np.errstate(over="ignore"):
        h = [_INIT_A]
        pool = [_hashmix(entropy[:, i] if i < length else np.zeros(n, np.uint32), h) for i in range(_POOL)]
        for src in range(_POOL):
            for dst in range(_POOL):
                if src != dst:
                    pool[dst] = _mix(pool[dst], _hashmix(pool[src], h))
        for src in range(_POOL, length):
            for dst in range(_POOL):
                pool[dst] = _mix(pool[dst], _hashmix(entropy[:, src], h))
        hb = _INIT_B
        out = np.empty((n, 8), dtype=np.uint32)
        for i in range(8):
            v = pool[i % _POOL] ^ hb
            hb = hb * _MULT_B
            v = v * hb
            out[:, i] = v ^ (v >> _XSHIFT)
    return out.astype("<u4").view("<u8").astype(np.uint64)


class _Seeded(ISeedSequence):
    """A seed sequence whose PCG64 seed words are already known (numpy's ``ISeedSequence``)."""

    __slots__ = ("words",)

    def __init__(self, words: np.ndarray):
        self.words = words

    def generate_state(self, n_words, dtype=np.uint32):
        return self.words


def _fast(keys: Sequence[tuple]) -> list[np.random.Generator]:
    words = [assembled_entropy(e, s) for e, s in keys]
    out: list = [None] * len(words)
    by_len: dict[int, list[int]] = {}
    for i, w in enumerate(words):
        by_len.setdefault(len(w), []).append(i)
    for idx in by_len.values():
        seeds = _pcg64_seeds(np.array([words[i] for i in idx], dtype=np.uint32))
        for i, s in zip(idx, seeds):
            out[i] = np.random.Generator(np.random.PCG64(_Seeded(s)))
    return out


def _numpy(keys: Sequence[tuple]) -> list[np.random.Generator]:
    return [np.random.default_rng(np.random.SeedSequence(entropy=e, spawn_key=tuple(s))) for e, s in keys]


_CHECKED: list = []  # [True] once the fast path matched numpy in this process, [False] if it did not


def generators(keys: Sequence[tuple]) -> list[np.random.Generator]:
    """``[default_rng(SeedSequence(entropy, spawn_key=spawn_key)) for entropy, spawn_key in keys]``,
    the same generators made together (``entropy``: a non-negative integer or a sequence of them;
    ``spawn_key``: a sequence of them)."""
    keys = list(keys)
    if not keys:
        return []
    if not _CHECKED:
        probe = [(12345, (0, 7)), ([2**40 + 3, 1, 2, 3, 4], (9,)), ((5, 0, 2, 1), ())]
        a, b = _fast(probe), _numpy(probe)
        _CHECKED.append(all(np.array_equal(x.integers(0, 2**63, 4), y.integers(0, 2**63, 4)) for x, y in zip(a, b)))
    return _fast(keys) if _CHECKED[0] else _numpy(keys)
