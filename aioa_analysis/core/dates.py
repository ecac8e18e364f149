"""The observation date ``as_of``: always explicit, never the clock."""

from __future__ import annotations

import re

import pandas as pd

from aioa_analysis.core.errors import ParameterError


def parse_as_of(as_of: object) -> pd.Timestamp:
    """Return ``as_of`` as a normalised Timestamp, or raise a one-line :class:`ParameterError`.

    >>> parse_as_of("2025-06-30")
    Timestamp('2025-06-30 00:00:00')
    >>> parse_as_of(None)
    Traceback (most recent call last):
    ...
    aioa_analysis.core.errors.ParameterError: as_of is required (the observation date) — pass it \
explicitly, e.g. as_of="2025-06-30"
    """
    if as_of is None or (isinstance(as_of, str) and not as_of.strip()):
        raise ParameterError(
            "as_of is required (the observation date)", hint='pass it explicitly, e.g. as_of="2025-06-30"'
        )
    if isinstance(as_of, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", as_of.strip()):
        # strict: no "today" (a hidden clock), no 01/02/2025 (day-first or month-first?), no bare year
        raise ParameterError(f"as_of {as_of!r} is not a date of the form YYYY-MM-DD", hint="e.g. 2025-06-30")
    try:
        ts = pd.Timestamp(as_of)  # type: ignore[arg-type]
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"as_of {as_of!r} is not a date", hint="use the form YYYY-MM-DD") from exc
    if pd.isna(ts):
        raise ParameterError(f"as_of {as_of!r} is not a date", hint="use the form YYYY-MM-DD")
    return ts.normalize()
