"""The fenced code blocks of a Markdown page, for the tests that run the documentation.

One reader for every such test (the tutorials, the loggers and plugins guides, the seed
tutorial's porting), so that they agree on what a block is. Lines are read in order and a
heading counts only outside a fence: a ``# comment`` inside a block is not a section title.
"""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["code_blocks", "code_blocks_by_heading"]


def _fenced(markdown: str) -> Iterator[tuple[str, str, str]]:
    """``(heading, language, code)`` for each fenced block, in page order."""
    heading, language, lines = "", None, []
    for line in markdown.splitlines(keepends=True):
        if language is None:
            if line.startswith("```"):
                language, lines = line[3:].strip(), []
            elif line.startswith("#"):
                heading = line.lstrip("#").strip()
        elif line.startswith("```"):
            yield heading, language, "".join(lines)
            language = None
        else:
            lines.append(line)


def code_blocks(markdown: str, language: str = "python") -> list[str]:
    """The page's ``language`` blocks, in order."""
    return [code for _, lang, code in _fenced(markdown) if lang == language]


def code_blocks_by_heading(markdown: str, language: str = "python") -> dict[str, list[str]]:
    """The page's ``language`` blocks, by the title of the section each is in."""
    found: dict[str, list[str]] = {}
    for heading, lang, code in _fenced(markdown):
        if lang == language:
            found.setdefault(heading, []).append(code)
    return found
