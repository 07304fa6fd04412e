"""User-facing errors.

Anything the user can get wrong (a dose without a unit, an unknown route, a malformed
scenario) raises :class:`MscsimError` with one readable line that names the field and the
accepted values. The CLI prints that line and exits non-zero, never a traceback.
"""

from __future__ import annotations


class MscsimError(ValueError):
    """An input error with a message meant for the user (one line)."""

    def __init__(self, message: str, *, field: str | None = None):
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


def did_you_mean(value: str, choices) -> str:
    """Return ' (did you mean X?)' when a close match exists, else ''."""
    import difflib

    match = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def unknown(kind: str, value, choices, *, field: str | None = None) -> MscsimError:
    """Build the standard 'unknown X' error listing the accepted values."""
    choices = sorted(str(c) for c in choices)
    return MscsimError(
        f"unknown {kind} {value!r}{did_you_mean(value, choices)}; accepted: {', '.join(choices)}",
        field=field,
    )
