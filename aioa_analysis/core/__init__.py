"""Core: what every layer above may use and nothing here imports from above.

Errors (:mod:`.errors`), default locations (:mod:`.config`), the column names and types of the
canonical tables (:mod:`.schema`), the observation date (:mod:`.dates`), atomic writes
(:mod:`.atomic`), the shipped referential tables and their CSV files (:mod:`.referential`,
``core/data/``) and French display formats (:mod:`.formatting`).
"""
