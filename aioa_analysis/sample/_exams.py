"""The exam-results file: one line per candidate of the closed sessions (Éducation nationale diplomas).

``;``, UTF-8 with BOM, CRLF; names upper-case without accents; results ``Admis`` (with or without
mention), ``Ajourné``, ``Absent``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from aioa_analysis.sample._format import name_variant, strip_accents, to_csv_bytes
from aioa_analysis.sample._simulate import Simulation

EXAM_HEADER = (
    "Nom",
    "Prénom",
    "Date de naissance",
    "INE",
    "Code diplôme",
    "Intitulé du diplôme",
    "Session",
    "Résultat",
)


def build_exams(sim: Simulation, rng: np.random.Generator, sessions: list[int]) -> tuple[bytes, dict]:
    """Exam results of the closed sessions, one line per candidate: Éducation nationale diplomas
    (academy results: no agricultural diplomas, titles or university degrees)."""
    ex = sim.exams
    en = ex["diploma_family"].isin(["CAP", "BP", "BAC PRO", "BTS", "MC"]) & ~ex["diploma_code"].str.slice(
        0, 3
    ).isin(["503", "403", "453", "323", "013"])
    ex = ex.loc[ex["closed"] & ex["exam_session"].isin(sessions) & en]
    per = sim.persons.set_index("person_id")
    p = per.loc[ex["person_id"].to_numpy()]
    out = pd.DataFrame(
        {
            "Nom": name_variant(pd.Series(p["surname"].to_numpy()), "upper", rng).to_numpy(),
            "Prénom": strip_accents(pd.Series(p["first_name"].to_numpy())).to_numpy(),
            "Date de naissance": pd.Series(p["birth_date"].to_numpy()).dt.strftime("%d/%m/%Y").to_numpy(),
            "INE": pd.Series(p["ine"].to_numpy()).fillna("").to_numpy(),
            "Code diplôme": ex["diploma_code"].to_numpy(),
            "Intitulé du diplôme": ex["diploma_title"].to_numpy(),
            "Session": ex["exam_session"].astype(str).to_numpy(),
            "Résultat": ex["result"].to_numpy(),
        }
    ).sort_values(["Session", "Code diplôme", "Nom", "Prénom"], kind="stable")
    data = to_csv_bytes(out, sep=";", encoding="utf-8-sig", lineterminator="\r\n")
    truth = {
        "profile": "exam_results",
        "records": len(out),
        "sessions": sorted(int(s) for s in set(out["Session"])),
        "_evidence": {"admitted_chain_ids": sorted(int(c) for c in ex.loc[ex["passed"], "chain_id"])},
    }
    return data, truth
