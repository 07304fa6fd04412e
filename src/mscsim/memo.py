"""Memoisation for the per-patient path (issue 19): ``functools.lru_cache`` where a call's
arguments can be hashed, the function itself where they cannot."""

from __future__ import annotations

from functools import lru_cache, wraps


def cached_when_hashable(maxsize: int = 128):
    """``functools.lru_cache(maxsize)``, except that a call with an unhashable argument (a dose
    object built by hand with a list, bounds given as lists) is computed directly instead of
    failing. A TypeError raised by the function itself is raised again by that direct call.
    ``cache_info``, ``cache_clear`` and ``__wrapped__`` as ``lru_cache`` gives them. Why not
    lru_cache alone: the callers take arguments the parser always makes hashable, but the Python API
    does not require it [design choice]."""
    def decorate(fn):
        cached = lru_cache(maxsize=maxsize)(fn)

        @wraps(fn)
        def call(*args):
            try:
                return cached(*args)
            except TypeError:  # unhashable arguments
                return fn(*args)

        call.cache_info = cached.cache_info
        call.cache_clear = cached.cache_clear
        return call

    return decorate
