"""Source profiles: required columns, header matching and profile scoring.

A profile's requirements are a list of *groups*; a group is satisfied when one of its
*alternatives* (a tuple of canonical columns) is fully present. For example the chamber profile
needs ``start_date`` and one of ``contract_id`` / ``apprentice_id`` / (``surname``, ``first_name``,
``birth_date``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from aioa_analysis.core.schema import C
from aioa_analysis.ingest.readers.aliases import APPRENTICE_ID, HEADER_PROFILES, AliasMap, normalise_header

Alternative = tuple[str, ...]
Group = tuple[Alternative, ...]

_PERSON: Group = ((C.surname, C.first_name, C.birth_date),)

REQUIREMENTS: dict[str, tuple[Group, ...]] = {
    "deca_extract": (((C.contract_id,),), ((C.start_date,),)),
    "deca_api": (((C.contract_id,),), ((C.start_date,),)),
    "tba_upload": (((C.start_date,),), _PERSON),
    "sifa": (),  # positional: 47 fields, no header
    "chamber": (((C.start_date,),), ((C.contract_id,), (APPRENTICE_ID,), *_PERSON)),
    "exam_results": (
        ((C.exam_result,),),
        ((C.diploma_code,), (C.diploma_title,)),
        ((C.ine,), (APPRENTICE_ID,), *_PERSON),
    ),
}
"""Required canonical columns of each profile (groups of alternatives)."""

TBA_CONTRACT_COLUMNS: tuple[str, ...] = (
    C.start_date,
    C.planned_end_date,
    C.employer_siret,
    C.rupture_date,
    C.rupture_reason_raw,
)
"""Per-contract columns of the TBA upload workbook (suffixes ``_2``, ``_3``, ``_4`` for contracts 2-4)."""

MAX_TBA_CONTRACTS = 4

_SUFFIX = re.compile(r"^(.*\D)([2-9])$")


@dataclass
class HeaderMatch:
    """How a header row maps onto a profile.

    Attributes
    ----------
    profile
        The profile matched against.
    columns
        ``canonical -> [column positions]``, positions in alias-priority order (first preferred).
    contracts
        TBA only: ``contract number (2..4) -> canonical -> [positions]`` for suffixed columns
        (contract 1 lives in ``columns``).
    unmapped
        Non-empty header cells mapped to nothing (kept out of the frame).
    """

    profile: str
    columns: dict[str, list[int]] = field(default_factory=dict)
    contracts: dict[int, dict[str, list[int]]] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)

    @property
    def n_matched(self) -> int:
        """Number of header cells mapped to a canonical column."""
        return sum(len(v) for v in self.columns.values()) + sum(
            len(v) for d in self.contracts.values() for v in d.values()
        )

    @property
    def present(self) -> set[str]:
        """Canonical columns present (contract 1 or any suffixed contract for the TBA)."""
        out = set(self.columns)
        for d in self.contracts.values():
            out.update(d)
        return out


def match_header(header: list[str], profile: str, amap: AliasMap) -> HeaderMatch:
    """Map the cells of ``header`` to canonical columns of ``profile``.

    Examples
    --------
    >>> from aioa_analysis.ingest.readers.aliases import load_aliases
    >>> m = match_header(["contrat_date_debut*", "contrat_date_debut_2", "note"], "tba_upload", load_aliases())
    >>> m.columns, m.contracts, m.unmapped
    ({'start_date': [0]}, {2: {'start_date': [1]}}, ['note'])
    """
    lookup = amap.lookup(profile)
    keys = [normalise_header(h) for h in header]
    match = HeaderMatch(profile=profile)
    for pos, key in enumerate(keys):
        if not key:
            continue
        canonical = lookup.get(key)
        if canonical is not None:
            match.columns.setdefault(canonical, []).append(pos)
            continue
        if profile == "tba_upload":
            m = _SUFFIX.match(key)
            if m and int(m.group(2)) <= MAX_TBA_CONTRACTS:
                base = lookup.get(m.group(1))
                if base in TBA_CONTRACT_COLUMNS:
                    match.contracts.setdefault(int(m.group(2)), {}).setdefault(base, []).append(pos)
                    continue
        match.unmapped.append(str(header[pos]).strip())
    for positions in match.columns.values():
        positions.sort(key=lambda p: (amap.priority(profile, keys[p]), p))
    return match


def missing_columns(present: set[str] | frozenset[str], profile: str) -> list[str]:
    """Required canonical columns missing for ``profile`` (closest alternative of each group).

    Examples
    --------
    >>> missing_columns({"surname", "first_name", "birth_date"}, "chamber")
    ['start_date']
    >>> missing_columns({"start_date"}, "exam_results")
    ['exam_result', 'diploma_code', 'ine']
    >>> missing_columns({"start_date", "contract_id"}, "chamber")
    []
    """
    out: list[str] = []
    for group in REQUIREMENTS[profile]:
        best = min(([c for c in alt if c not in present] for alt in group), key=len)
        out.extend(best)
    return out


def missing_groups(present: set[str] | frozenset[str], profile: str) -> list[list[list[str]]]:
    """For each unsatisfied requirement group of ``profile``: the missing columns of each alternative.

    Examples
    --------
    >>> missing_groups({"surname", "first_name"}, "chamber")
    [[['start_date']], [['contract_id'], ['apprentice_id'], ['birth_date']]]
    """
    out = []
    for group in REQUIREMENTS[profile]:
        alts = [[c for c in alt if c not in present] for alt in group]
        if all(alts):
            out.append(alts)
    return out


@dataclass(frozen=True)
class ProfileScore:
    """Result of matching one header row against one profile."""

    profile: str
    n_matched: int
    missing: tuple[str, ...]
    present: frozenset[str] = frozenset()

    @property
    def complete(self) -> bool:
        """True when every required column is present."""
        return not self.missing


def score_profiles(
    header: list[str], amap: AliasMap, profiles: tuple[str, ...] = HEADER_PROFILES
) -> list[ProfileScore]:
    """Score ``header`` against each header-based profile, best first.

    Complete profiles come first (most matched columns first, then the order of ``profiles``),
    then incomplete ones (fewest missing columns, then most matched).
    """
    scores = []
    for profile in profiles:
        m = match_header(header, profile, amap)
        scores.append(
            ProfileScore(
                profile, m.n_matched, tuple(missing_columns(m.present, profile)), frozenset(m.present)
            )
        )
    order = {p: i for i, p in enumerate(profiles)}
    return sorted(scores, key=lambda s: (not s.complete, len(s.missing), -s.n_matched, order[s.profile]))
