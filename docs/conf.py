"""Sphinx configuration: MyST pages, the command reference generated from the click commands.

Build: ``python3 -m pip install '.[docs]' && sphinx-build -W -b html docs OUT``.

Each command's options are documented once, in their click help text
(``osreplay/console/help.py``); a command's page shows them with sphinx-click's ``click``
directive (``:prog: osreplay NAME``). ``commands.md`` lists every command of the click group
and documents in full any command that has no page of its own yet, so a new command is in the
reference as soon as it exists.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
from docutils import nodes
from sphinx_click.ext import ClickDirective

from osreplay import __version__
from osreplay.cli import main

HERE = Path(__file__).parent

project = "osreplay"
author = "the osreplay authors"
copyright = "the osreplay authors, Apache-2.0"  # noqa: A001 (Sphinx's name)
version = release = __version__

extensions = ["myst_parser", "sphinx_click"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "README.md"]
# Links such as [replay](replay.md#parallel-replay---workers) name a heading's anchor.
myst_heading_anchors = 3
myst_enable_extensions = ["deflist"]
html_theme = "alabaster"
html_theme_options = {"description": "Record, validate and replay OpenStack notifications"}
html_static_path: list[str] = []
# A link to a missing page or heading anchor is a warning, so an error under -W: link to
# pages and headings only (the repository's folders are named as code, not linked).

# --- the help texts, written for a terminal, read as reStructuredText ---------------------

_LITERAL = re.compile(r"`([^`]+)`")
_RST_SPECIAL = re.compile(r"([*|_\\])")
_FIELD = re.compile(r"\s*:(default|options):")


def _rst_text(line: str) -> str:
    """A help line in RST: `x` as a literal, and *, |, _ and \\ as themselves elsewhere."""
    pieces = _LITERAL.split(line)
    out = []
    for number, piece in enumerate(pieces):
        if number % 2:
            out.append(f"``{piece}``")
        else:
            out.append(_RST_SPECIAL.sub(r"\\\1", piece))
    return "".join(out)


def _escape_help(app: Any, ctx: click.Context, lines: list[str]) -> None:
    for number, line in enumerate(lines):
        stripped = line.lstrip()
        if not stripped or stripped.startswith(".. ") or _FIELD.match(line):
            continue
        lines[number] = _rst_text(line)


# --- a command's page: its --help, under the page's own heading -----------------------


class CommandReference(ClickDirective):  # type: ignore[misc]
    """``click``, without the section it opens: the page is already titled by the command.

    The section of a subcommand (``schema infer``) stays, its id prefixed with ``cli-`` so
    that it never meets the page's own heading of the same words.
    """

    def run(self) -> list[nodes.Node]:
        out: list[nodes.Node] = []
        for section in super().run():
            for sub in section.findall(nodes.section):
                if sub is not section:
                    sub["ids"] = [f"cli-{i}" for i in sub["ids"]]
                    sub["names"] = [f"cli {n}" for n in sub["names"]]
            out.extend(section.children[1:])
        return out


# --- commands.md: every command of the group -----------------------------------------

_PROG = re.compile(r"^\s*:prog:\s*osreplay (\S+)\s*$", re.M)


def _command_pages() -> dict[str, str]:
    """{command: page} for the pages that document a command with the click directive."""
    pages: dict[str, str] = {}
    for path in sorted(HERE.glob("*.md")):
        for name in _PROG.findall(path.read_text(encoding="utf-8")):
            pages.setdefault(name, path.stem)
    return pages


def _commands_reference() -> str:
    pages = _command_pages()
    rows = ["| command | what it does | reference |", "|---|---|---|"]
    missing = []
    for name in sorted(main.commands):
        command = main.commands[name]
        summary = command.get_short_help_str(limit=200).replace("|", "\\|")
        if name in pages:
            where = f"[]({pages[name]}.md)"
        else:
            where = "below"
            missing.append(name)
        rows.append(f"| `osreplay {name}` | {summary} | {where} |")
    nested = f":nested: full\n   :commands: {', '.join(missing)}" if missing else ":nested: none"
    # sphinx-click writes reStructuredText, which MyST reads only inside eval-rst.
    directive = f".. click:: osreplay.cli:main\n   :prog: osreplay\n   {nested}"
    return "\n".join(rows) + f"\n\n```{{eval-rst}}\n{directive}\n```\n"


def _fill_commands(app: Any, docname: str, source: list[str]) -> None:
    if docname == "commands":
        source[0] = source[0].replace("<!-- osreplay-commands -->", _commands_reference())


# --- index.md: its toctree, then every page it does not name ---------------------------

_TOCTREE = re.compile(r"(```\{toctree\}\n(?:.*\n)*?)(```)")


def _fill_toctree(app: Any, docname: str, source: list[str]) -> None:
    """Pages added later (docs/NAME.md) join the contents, after the ones index.md orders."""
    if docname != "index":
        return
    match = _TOCTREE.search(source[0])
    if match is None:
        return
    named = {line.strip() for line in match.group(1).splitlines()}
    more = [p.stem for p in sorted(HERE.glob("*.md")) if p.stem not in named | {"index"}]
    block = match.group(1) + "".join(f"{stem}\n" for stem in more) + match.group(2)
    source[0] = source[0][: match.start()] + block + source[0][match.end() :]


def setup(app: Any) -> None:
    for event in ("description", "options", "arguments", "epilog"):
        app.connect(f"sphinx-click-process-{event}", _escape_help)
    app.add_directive("osreplay-command", CommandReference)
    app.connect("source-read", _fill_commands)
    app.connect("source-read", _fill_toctree)
