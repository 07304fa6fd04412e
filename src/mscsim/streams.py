"""The virtual patients' random streams, made many at a time (issue 19).

Every patient draws from streams of his own, each ``numpy.random.default_rng(SeedSequence(entropy,
spawn_key))`` with an entropy and spawn key fixed by (scenario seed, arm, candidate, purpose), so
results do not depend on how the work is split. Making one such generator costs 14-40 us (the most
inside a running trial), most of it ``SeedSequence`` hashing a handful of 32-bit words one numpy
call at a time; a trial makes about five per patient (candidate draws, traits, screening visit,
trial visits, safety), 10-15 % of a trial's CPU time [measured, issue 19].

`generators` makes the same generators for a whole batch of streams: the hashing of numpy's
``SeedSequence`` (M. E. O'Neill's ``seed_seq`` design as numpy implements it in
``numpy/random/bit_generator.pyx``, a documented, reproducibility-stable algorithm since numpy
1.17: hash the assembled entropy into a pool of 4 words, then hash the pool into the output words)
runs on all the streams at once as uint32 array operations, and each ``PCG64`` is seeded with its
words through numpy's public ``ISeedSequence`` interface. The generators are the ones numpy makes,
bit for bit: tests/test_streams.py compares them over many entropies and spawn keys, and the first
use in a process checks the seed words of four entropies against numpy's and falls back to numpy's
own path if they ever differ. About 5 us per stream made 64 together; batches of fewer than 8
streams of one length, and entropies of more than 16 words, are made by numpy directly.
Written here because numpy has no batched ``SeedSequence`` [design choice].
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.random.bit_generator import ISeedSequence

# numpy's SeedSequence constants (bit_generator.pyx; O'Neill's seed_seq)
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_MULT_L = np.uint32(0xCA01F9DD)
_MIX_MULT_R = np.uint32(0x4973F715)
_XSHIFT = np.uint32(16)
_POOL = 4
_MASK32 = 0xFFFFFFFF
_MAX_WORDS = 16  # longest assembled entropy hashed here (longer ones go to numpy's own path)


def _hash_constants(init: int, mult: int, n: int) -> np.ndarray:
    """The running hash constant of n successive hashmix calls, and the one after: a hashmix XORs
    with entry i and multiplies by entry i + 1. The sequence does not depend on the data."""
    out, h = [], init
    for _ in range(n + 1):
        out.append(h)
        h = (h * mult) & _MASK32
    return np.array(out, dtype=np.uint32)[:, None]


_A = _hash_constants(_INIT_A, _MULT_A, _POOL + _POOL * (_POOL - 1) + _POOL * (_MAX_WORDS - _POOL))
_B = _hash_constants(_INIT_B, _MULT_B, 2 * _POOL)


def _words(x) -> list[int]:
    """``x`` (a non-negative integer or a sequence of them) as numpy's SeedSequence coerces it: the
    little-endian 32-bit words of each integer (0 is one word), concatenated."""
    if type(x) is int and 0 <= x <= _MASK32:  # the usual case: one word
        return [x]
    if type(x) in (tuple, list) and all(type(v) is int and 0 <= v <= _MASK32 for v in x):
        return list(x)
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


def _hashmix(value: np.ndarray, i: int, constants: np.ndarray) -> np.ndarray:
    """Hashmix of rows of words, row r with the hash constants of call i + r (uint32, wrapping)."""
    k = value.shape[0]
    value = (value ^ constants[i:i + k]) * constants[i + 1:i + k + 1]
    return value ^ (value >> _XSHIFT)


def _mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r = _MIX_MULT_L * x - _MIX_MULT_R * y
    return r ^ (r >> _XSHIFT)


def _pcg64_seeds(entropy: np.ndarray) -> np.ndarray:
    """(N, 4) uint64: ``SeedSequence.generate_state(4, uint64)`` of N streams of equal length
    (``entropy``: (N, L) uint32 assembled entropy, L <= _MAX_WORDS)."""
    n, length = entropy.shape
    words = entropy.T  # (L, N)
    pool = np.zeros((_POOL, n), dtype=np.uint32)
    pool[:min(length, _POOL)] = words[:_POOL]
    pool = _hashmix(pool, 0, _A)  # the entropy's first words (zeros beyond it) into the pool
    call = _POOL
    for src in range(_POOL):  # every pool word into every other, in numpy's order
        dst = [d for d in range(_POOL) if d != src]
        pool[dst] = _mix(pool[dst], _hashmix(np.repeat(pool[src:src + 1], _POOL - 1, axis=0), call, _A))
        call += _POOL - 1
    for src in range(_POOL, length):  # the entropy's further words into every pool word
        pool = _mix(pool, _hashmix(np.repeat(words[src:src + 1], _POOL, axis=0), call, _A))
        call += _POOL
    out = _hashmix(pool[[0, 1, 2, 3, 0, 1, 2, 3]], 0, _B)  # generate_state: 8 words, the pool cycled
    return np.ascontiguousarray(out.T).astype("<u4").view("<u8").astype(np.uint64)


class _Seeded(ISeedSequence):
    """A seed sequence whose PCG64 seed words are already known (numpy's ``ISeedSequence``)."""

    __slots__ = ("words",)

    def __init__(self, words: np.ndarray):
        self.words = words

    def generate_state(self, n_words, dtype=np.uint32):
        return self.words


#: batches smaller than this are made by numpy directly (the batched hashing has a fixed cost of
#: some 40 array operations) [measured]
_SMALL = 8


def _fast(keys: Sequence[tuple]) -> list[np.random.Generator]:
    if len(keys) < _SMALL:  # no group of one length can reach the batched hashing
        return _numpy(keys)
    words = [assembled_entropy(e, s) for e, s in keys]
    out: list = [None] * len(words)
    by_len: dict[int, list[int]] = {}
    for i, w in enumerate(words):
        by_len.setdefault(len(w), []).append(i)
    for length, idx in by_len.items():
        if length > _MAX_WORDS or len(idx) < _SMALL:
            for i, g in zip(idx, _numpy([keys[i] for i in idx])):
                out[i] = g
            continue
        seeds = _pcg64_seeds(np.array([words[i] for i in idx], dtype=np.uint32))
        for i, s in zip(idx, seeds):
            out[i] = np.random.Generator(np.random.PCG64(_Seeded(s)))
    return out


def _numpy(keys: Sequence[tuple]) -> list[np.random.Generator]:
    return [np.random.default_rng(np.random.SeedSequence(entropy=e, spawn_key=tuple(s))) for e, s in keys]


_CHECKED: list = []  # [True] once the batched hashing matched numpy in this process, [False] if it did not


def _self_check() -> bool:
    """The batched hashing gives numpy's seed words for a few entropies of different shapes."""
    probe = [(12345, (0, 7)), ([2**40 + 3, 1, 2, 3, 4], (9,)), ((5, 0, 2, 1), ()), (0, ())]
    for entropy, spawn in probe:
        words = np.array([assembled_entropy(entropy, spawn)] * 2, dtype=np.uint32)
        want = np.random.SeedSequence(entropy=entropy, spawn_key=spawn).generate_state(4, np.uint64)
        if not (_pcg64_seeds(words) == want).all():
            return False
    return True


def generators(keys: Sequence[tuple]) -> list[np.random.Generator]:
    """``[default_rng(SeedSequence(entropy, spawn_key=spawn_key)) for entropy, spawn_key in keys]``,
    the same generators made together (``entropy``: a non-negative integer or a sequence of them;
    ``spawn_key``: a sequence of them): the same state and draws. A generator made by the batched
    path holds a stand-in for its seed sequence (``bit_generator.seed_seq``: the seed words only,
    no ``spawn`` nor ``entropy``); the package only draws from them."""
    keys = list(keys)
    if not keys:
        return []
    if not _CHECKED:
        _CHECKED.append(_self_check())
    return _fast(keys) if _CHECKED[0] else _numpy(keys)
