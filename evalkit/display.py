"""Plain-text layout for the terminal: notes wrapped and tables fitted to the terminal's width.

``evalkit leaderboard show``, ``models list`` and ``benchmarks show`` print through here, so they
fit an 80-column terminal: words wrap at spaces (an id is never cut), a table too wide for the
screen first wraps its multi-word cells, then splits its columns into blocks that each repeat the
first column. ``leaderboard render`` writes the publishable Markdown/HTML, which may be wide.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Sequence

GAP = "  "


def terminal_width() -> int:
    """The terminal's columns ($COLUMNS first), 80 when not a terminal, at least 40."""
    return max(40, shutil.get_terminal_size((80, 24)).columns)


def wrap(text: str, width: int, indent: str = "", hanging: str = "") -> list[str]:
    """Lines of at most ``width`` characters, broken at spaces (a single longer word alone
    is broken too, so no line exceeds the width)."""
    return textwrap.wrap(
        text,
        width,
        initial_indent=indent,
        subsequent_indent=hanging or indent,
        break_on_hyphens=False,
    ) or [indent.rstrip()]


def table_lines(
    header: Sequence[str], rows: Sequence[Sequence[str]], width: int, keep: Sequence[int] = (0,)
) -> list[str]:
    """An aligned table in ``width`` columns. Columns in ``keep`` never wrap; others wrap at
    spaces down to their longest word; what still does not fit is split into column blocks,
    each repeating column 0."""
    cells = [[str(c) for c in header], *[[str(c) for c in r] for r in rows]]
    natural = [max(len(r[i]) for r in cells) for i in range(len(header))]
    least = [
        natural[i] if i in keep else max(len(w) for r in cells for w in (r[i].split() or [""]))
        for i in range(len(header))
    ]
    widths = list(natural)
    while _span(widths) > width:  # narrow the widest wrappable column by one character
        room = [i for i in range(len(widths)) if widths[i] > least[i]]
        if not room:
            break
        widest = max(room, key=lambda i: widths[i])
        widths[widest] -= 1
    if _span(widths) <= width or len(header) <= 2:
        return _layout(cells, widths, list(range(len(header))))
    out: list[str] = []
    for block in _blocks(widths, width):
        out += (["", *_layout(cells, widths, block)]) if out else _layout(cells, widths, block)
    return out


def _span(widths: Sequence[int]) -> int:
    return sum(widths) + len(GAP) * (len(widths) - 1)


def _blocks(widths: list[int], width: int) -> list[list[int]]:
    """Column index groups that fit ``width``, each starting with column 0."""
    blocks, current = [], [0]
    for i in range(1, len(widths)):
        if len(current) > 1 and _span([widths[j] for j in [*current, i]]) > width:
            blocks.append(current)
            current = [0]
        current.append(i)
    return [*blocks, current]


def _layout(cells: list[list[str]], widths: list[int], columns: list[int]) -> list[str]:
    lines = []
    for n, row in enumerate(cells):
        parts = [textwrap.wrap(row[i], widths[i], break_on_hyphens=False) or [""] for i in columns]
        height = max(len(p) for p in parts)
        for k in range(height):
            texts = [(p[k] if k < len(p) else "").ljust(widths[i]) for p, i in zip(parts, columns)]
            lines.append(GAP.join(texts).rstrip())
        if n == 0:
            lines.append(GAP.join("-" * widths[i] for i in columns))
    return lines


def markdown_text(md: str, width: int) -> str:
    """The Markdown a table renderer writes (headings, notes, "- " lists, pipe tables) as
    terminal text in ``width`` columns."""
    out: list[str] = []
    table: list[list[str]] = []

    def flush() -> None:
        if table:
            out.extend(table_lines(table[0], table[1:], width))
            table.clear()

    for line in md.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not set(line.replace("|", "").strip()) <= set("-: "):
                table.append(cells)
            continue
        flush()
        stripped = line.strip()
        if line.startswith("#"):
            out += wrap(stripped.lstrip("#").strip(), width)
        elif stripped.startswith("- "):
            out += wrap(stripped[2:], width, indent="- ", hanging="  ")
        elif line.startswith("  ") and stripped:
            out += wrap(stripped, width, indent="  ", hanging="      ")
        else:
            out += wrap(stripped, width) if stripped else [""]
    flush()
    return "\n".join(out).rstrip() + "\n"
