"""StudyTables -> Markdown, JSON and a self-contained HTML page; store comparisons.

Public API::

    render_markdown(tables) -> str
    render_json(tables) -> dict
    write_html(tables, directory, *, comparison=None) -> Path      # directory/index.html
    compare(a, b, *, store=None) -> pd.DataFrame
    render_compare_markdown(df, *, show_unchanged=False) -> str
    compare_command(a, b, store=None) -> str                        # what ``portabench compare`` prints
    render_compare_html(df) -> str                                  # an HTML section (fragment)
"""

from portabench.report.compare import compare, compare_command, render_compare_markdown
from portabench.report.jsonout import render_json
from portabench.report.markdown import render_markdown


def __getattr__(name: str):  # HTML pulls in matplotlib: import it lazily
    if name in ("write_html", "render_html", "render_compare_html"):
        from portabench.report import html

        return getattr(html, name)
    raise AttributeError(name)


__all__ = ["compare", "compare_command", "render_compare_html", "render_compare_markdown", "render_html", "render_json",
           "render_markdown", "write_html"]
