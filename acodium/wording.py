"""How numbers read in what acodium prints: "1 sample", "2 samples", and money that has no price.

On the ground floor (it imports nothing of acodium): the CLI, the library's notes and
the progress bars say counts and costs the same way.
"""

from __future__ import annotations


def plural(n: int, word: str, many: str | None = None) -> str:
    """`n` and the word in the number it takes: plural(1, "sample") -> "1 sample", plural(2, "fix", "fixes")."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def cost_text(cost: float | None, unpriced_calls: int = 0, digits: int = 4) -> str:
    """What calls cost in USD, saying when some (or all) had no price rather than showing a number for them.

    cost_text(0.0123) -> "$0.0123"; cost_text(0.0, 3) -> "unpriced"; cost_text(0.01, 2) -> "$0.0100 + 2 unpriced calls".
    """
    if cost is None or (unpriced_calls and not cost):
        return "unpriced"
    text = f"${cost:.{digits}f}"
    return text + (f" + {plural(unpriced_calls, 'unpriced call')}" if unpriced_calls else "")


def text_table(rows: list[dict], columns: list[str] | None = None) -> str:
    """Rows as a plain-text table for a terminal: a header, columns left-aligned, two spaces apart."""
    columns = columns or (list(rows[0]) if rows else [])
    cells = [[str(c) for c in columns]] + [[str(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in cells)
