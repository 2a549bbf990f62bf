"""docs/runbook.md in the portal: rendered with Python-Markdown, with an anchor per alert kind.

The convention (stated at the top of the runbook): a `###` heading names the alert kinds it covers
in backticks, and the first such heading of a kind is its entry, reached at `/ops/runbook/#<kind>`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import markdown
from django.conf import settings

KIND_IN_BACKTICKS = re.compile(r"`([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)`")
KIND_IN_CODE = re.compile(r"<code>([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)</code>")
H3 = re.compile(r"<h3 id=\"([^\"]*)\">(.*?)</h3>", re.DOTALL)


def runbook_path() -> Path:
    return Path(settings.BASE_DIR) / "docs" / "runbook.md"


def runbook_kinds(text: str) -> dict[str, str]:
    """Alert kind → the `###` heading that is its entry (the first one naming it in backticks)."""
    entries: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("### "):
            for kind in KIND_IN_BACKTICKS.findall(line):
                entries.setdefault(kind, line[4:].strip())
    return entries


@lru_cache(maxsize=4)
def _rendered(text: str) -> str:
    html = markdown.markdown(
        text, extensions=["tables", "fenced_code", "toc"], output_format="html"
    )
    seen: set[str] = set()

    def anchor(match: re.Match) -> str:
        slug, inner = match.groups()
        kinds = [k for k in dict.fromkeys(KIND_IN_CODE.findall(inner)) if k not in seen]
        seen.update(kinds)
        spans = "".join(f'<span id="{kind}" class="anchor"></span>' for kind in kinds)
        return f'<h3 id="{slug}">{spans}{inner}</h3>'

    return H3.sub(anchor, html)


def runbook_html() -> str:
    """The runbook as HTML (re-rendered only when the file changes). The file is ours, not input."""
    return _rendered(runbook_path().read_text(encoding="utf-8"))
