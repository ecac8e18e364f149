"""DECA sources: the API JSON response (nested camelCase) and the flat CSV extract variant rule."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from aioa_analysis.core.schema import C
from aioa_analysis.ingest.readers.aliases import AliasMap, normalise_header
from aioa_analysis.ingest.readers.profiles import HeaderMatch
from aioa_analysis.ingest.readers.tabular import combine_columns

STRING = pd.StringDtype()

LBA_MARKERS: tuple[str, ...] = ("courrielemployeur", "denomination")
"""Header keys only found in the DECA "LBA" extract, whose postcode/phone are the employer's."""


def apply_extract_variant(header: list[str], match: HeaderMatch) -> tuple[HeaderMatch, str]:
    """Apply the DECA flat-extract variant rule to a header match.

    If the header holds LBA-only employer-contact columns (``courrielemployeur`` or
    ``denomination``), ``adressecodepostal`` is the employer's postcode (-> ``employer_postcode``),
    ``telephone`` the employer's phone (dropped) and ``courriel`` is not used for the apprentice's
    e-mail when ``courrielalternant`` exists. Otherwise (TBA extract, and the sample's extract) they
    are the apprentice's.

    Returns the adjusted match and the variant name (``"lba"`` or ``"tba"``).
    """
    keys = [normalise_header(h) for h in header]
    if not any(k in LBA_MARKERS for k in keys):
        return match, "tba"
    cols = {c: list(p) for c, p in match.columns.items()}
    unmapped = list(match.unmapped)

    def _take(canonical: str, key: str) -> list[int]:
        taken = [p for p in cols.get(canonical, []) if keys[p] == key]
        if taken:
            cols[canonical] = [p for p in cols[canonical] if p not in taken]
            if not cols[canonical]:
                del cols[canonical]
        return taken

    moved = _take(C.residence_postcode, "adressecodepostal")
    if moved:
        cols.setdefault(C.employer_postcode, []).extend(moved)
    unmapped += [header[p] for p in _take(C.phone, "telephone")]
    if any(keys[p] == "courrielalternant" for p in cols.get(C.email, [])):
        unmapped += [header[p] for p in _take(C.email, "courriel")]
    return HeaderMatch(match.profile, cols, match.contracts, unmapped), "lba"


def flatten(obj: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(dotted path, leaf value)`` pairs of a nested dict.

    Examples
    --------
    >>> dict(flatten({"alternant": {"nom": "X", "adresse": {"codePostal": "41000"}}, "a": 1}))
    {'alternant.nom': 'X', 'alternant.adresse.codePostal': '41000', 'a': 1}
    """
    for key, value in obj.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            yield from flatten(value, path)
        else:
            yield path, value


def json_constant(name: str) -> None:
    """``parse_constant`` hook of :func:`json.loads`: the non-standard tokens ``NaN``, ``Infinity``
    and ``-Infinity`` (written by some exporters, e.g. pandas/numpy) mean a missing value.

    >>> import json
    >>> json.loads('{"a": NaN, "b": [Infinity, 1]}', parse_constant=json_constant)
    {'a': None, 'b': [None, 1]}
    """
    return None


class DuplicateKeyError(ValueError):
    """A JSON object names the same key twice (json.loads would keep the last one silently)."""


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` of :func:`json.loads` that refuses an object naming a key twice.

    >>> import json
    >>> json.loads('{"a": 1, "b": 2}', object_pairs_hook=unique_keys)
    {'a': 1, 'b': 2}
    >>> json.loads('{"contrats": [1], "contrats": [2]}', object_pairs_hook=unique_keys)
    Traceback (most recent call last):
    ...
    aioa_analysis.ingest.readers.deca.DuplicateKeyError: contrats
    """
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKeyError(key)
        out[key] = value
    return out


def json_value_text(value: Any) -> str | None:
    """Text of a JSON leaf: ``None``/``""``/NaN/infinity -> missing, booleans ``true``/``false``,
    integral numbers without ``.0``, lists and objects as compact JSON.

    Examples
    --------
    >>> [json_value_text(v) for v in (None, "", False, 1, 74.0, 2.5, "01", [1, 2], float("nan"))]
    [None, None, 'false', '1', '74', '2.5', '01', '[1, 2]', None]
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None  # NaN / Infinity: a missing value, never the text "nan"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


@dataclass
class JsonRecords:
    """Contracts of a DECA API response: flattened records and their 1-based array positions."""

    records: list[dict[str, str | None]]
    positions: list[int]
    rejected: list[dict[str, object]] = field(default_factory=list)
    lines_read: int = 0
    container: str = "contrats"


def extract_records(doc: Any) -> JsonRecords | None:
    """The contract objects of a parsed JSON document, or ``None`` if it holds none.

    Accepts ``{"contrats": [...]}`` (the API response), a bare list of contracts, or a single
    contract object (with a ``detailsContrat`` block).
    """
    if isinstance(doc, dict) and isinstance(doc.get("contrats"), list):
        items, container = doc["contrats"], "contrats"
    elif isinstance(doc, list):
        items, container = doc, "[]"
    elif isinstance(doc, dict) and isinstance(doc.get("detailsContrat"), dict):
        items, container = [doc], "{}"
    else:
        return None
    out = JsonRecords([], [], container=container, lines_read=len(items))
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            out.rejected.append(
                {
                    "source_row": i,
                    "column": "",
                    "reason": f"élément {i} du tableau '{container}' : pas un objet JSON",
                    "value": type(item).__name__,
                }
            )
            continue
        out.records.append({k: json_value_text(v) for k, v in flatten(item)})
        out.positions.append(i)
    return out


def map_records(recs: JsonRecords, amap: AliasMap) -> tuple[HeaderMatch, dict[str, pd.Series]]:
    """Map flattened JSON paths to canonical columns (``deca_api`` aliases)."""
    lookup = amap.lookup("deca_api")
    paths: dict[str, None] = {}
    for rec in recs.records:
        paths.update(dict.fromkeys(rec))
    path_list = list(paths)
    match = HeaderMatch("deca_api")
    for i, path in enumerate(path_list):
        canonical = lookup.get(normalise_header(path))
        if canonical is None:
            match.unmapped.append(path)
        else:
            match.columns.setdefault(canonical, []).append(i)
    for positions in match.columns.values():
        positions.sort(key=lambda p: (amap.priority("deca_api", normalise_header(path_list[p])), p))
    frame = pd.DataFrame(
        {i: pd.Series([rec.get(p) for rec in recs.records], dtype=STRING) for i, p in enumerate(path_list)},
        index=pd.RangeIndex(len(recs.records)),
    )
    columns = {c: combine_columns(frame, pos, c) for c, pos in match.columns.items()}
    return match, columns
