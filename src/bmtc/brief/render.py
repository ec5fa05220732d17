"""Writes a brief as one self-contained HTML file or as a PDF laid out by WeasyPrint."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any, NoReturn

import jinja2
import markupsafe

from bmtc.brief import Brief

FORMATS = {".html": "html", ".pdf": "pdf"}
PAPERS = {"a4": "A4", "letter": "Letter"}


def output_format(path: Path) -> str:
    """"html" or "pdf" from the file suffix; ValueError for anything else."""
    found = FORMATS.get(path.suffix.lower())
    if found is None:
        raise ValueError(f"{path.name}: the brief is written as .pdf or .html, not "
                         f"{path.suffix or 'a file without a suffix'!r}")
    return found


def _templates() -> Any:
    return files("bmtc.brief") / "templates"


def render_html(brief: Brief, paper: str = "a4") -> str:
    if paper not in PAPERS:
        raise ValueError(f"paper must be one of {', '.join(PAPERS)}, not {paper!r}")
    environment = jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: (_templates() / name).read_text("utf-8")),
        autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    # The stylesheet is ours, not data: it goes in unescaped (quotes intact).
    css = markupsafe.Markup((_templates() / "brief.css").read_text("utf-8"))
    return environment.get_template("brief.html").render(
        brief=brief, css=css, paper=PAPERS[paper])


def _no_fetching(url: str, *_args: Any, **_kwargs: Any) -> NoReturn:
    # The HTML carries its CSS and charts inline; a fetch would mean a stray external URL,
    # and a brief must render the same with no network.
    raise ValueError(f"the brief loads no external resources (asked for {url})")


def render_pdf(html: str) -> bytes:
    # Imported here: WeasyPrint loads Pango through cffi, which only the PDF path needs.
    import weasyprint

    document = weasyprint.HTML(string=html, url_fetcher=_no_fetching)
    pdf: bytes = document.write_pdf()
    return pdf


def write(brief: Brief, path: Path, paper: str = "a4") -> str:
    """Write the brief to `path` in the format its suffix names; return the format."""
    kind = output_format(path)
    html = render_html(brief, paper)
    if kind == "html":
        path.write_text(html, encoding="utf-8")
    else:
        path.write_bytes(render_pdf(html))
    return kind
