"""« Méthodologie »: the methodology note (docs/methodology.md) as an annex of the report."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Final

from aioa_analysis.core.formatting import fr_date, fr_number
from aioa_analysis.reporting.display import show_html
from aioa_analysis.reporting.sections.context import ReportContext
from aioa_analysis.reporting.sections.layout import heading, paragraph


def methodology_markdown() -> str | None:
    """docs/methodology.md as shipped in the package (``aioa_analysis/core/data/methodology.md``), else
    the project's ``docs/methodology.md``; ``None`` when neither exists."""
    shipped = resources.files("aioa_analysis.core") / "data" / "methodology.md"
    if shipped.is_file():
        return shipped.read_text(encoding="utf-8")
    from aioa_analysis.core import config

    for candidate in (
        config.project_dir() / "docs" / "methodology.md",
        Path(__file__).resolve().parents[2] / "docs" / "methodology.md",
    ):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    return None


def markdown_html(text: str) -> str:
    """Markdown to HTML (raw HTML escaped), headings shifted down two levels under the section.

    >>> markdown_html("# Titre\\n\\nTexte <b>brut</b>.")
    '<h3>Titre</h3>\\n<p>Texte &lt;b&gt;brut&lt;/b&gt;.</p>\\n'
    >>> "<thead>" in markdown_html("| | |\\n|---|---|\\n| a | b |\\n")
    False
    """
    import mistune

    md = mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])
    out = str(md(text))

    def shift(m: re.Match[str]) -> str:
        level = min(int(m.group(2)) + 2, 6)
        return f"<{m.group(1)}h{level}"

    out = re.sub(r"<(/?)h([1-6])", shift, out)
    # a table whose header cells are all empty (``| | |``) gets no header row at all
    return _EMPTY_THEAD.sub("", out)


_EMPTY_THEAD: Final = re.compile(r"<thead>\s*<tr>\s*(?:<th[^>]*>\s*</th>\s*)+</tr>\s*</thead>\s*")


def show_methodologie(ctx: ReportContext) -> None:
    """The methodology annex: this report's own scope, then the family's note (docs/methodology.md)."""
    heading("methodologie")
    show_html(scope_paragraph(ctx))
    text = methodology_markdown()
    if text is None:
        show_html(
            paragraph(
                "La note de méthodologie (docs/methodology.md) n'est pas disponible dans cette installation.",
                "unavailable",
            )
        )
        return
    show_html(f'<div class="method">{markdown_html(text)}</div>')


def scope_paragraph(ctx: ReportContext) -> str:
    """What this report covers (one paragraph): the note that follows is the same for every report of
    the family, this paragraph says how it applies to this one."""
    return paragraph(
        f"Ce rapport : {ctx.scope_label}, soit {fr_number(len(ctx.contracts))} contrats. "
        f"Date d'observation : {fr_date(ctx.as_of)} ; horizon du taux principal : {ctx.horizon} mois ; "
        f"groupes de moins de {ctx.min_n} contrats non publiés, et secret secondaire décidé pour toute la "
        "famille de rapports (partie 15). La note ci-dessous est commune à tous les rapports de la famille.",
        "scope",
    )
