"""Ingest: raw files in, one clean pseudonymised contract table out.

:mod:`.readers` detect each file's format and map it to canonical columns; :mod:`.parsing` types the
values; :mod:`.pseudonym` and :mod:`.identity` replace identities by a keyed pseudonym and keep the
identities in the restricted store; :mod:`.cleaning` chains the cleaning steps: :mod:`.values`
(typed values), :mod:`.rules` (rejections), :mod:`.merge` (duplicates, one row per contract,
conflicts), :mod:`.exams` (exam results) and :mod:`.derive` (derived fields); :mod:`.pipeline`
runs it all and writes the outputs atomically (``aioa clean``).
"""
