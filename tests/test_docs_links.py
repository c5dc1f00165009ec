"""The README and docs/ point only inside the repository: a user who clones it has every page they name."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_no_page_points_outside_the_repository():
    outside = [(page.name, line) for page in PAGES for line in page.read_text().splitlines()
               if "../shared" in line or "](../" in line]
    assert not outside, outside


def test_every_relative_link_resolves_to_a_file_of_the_repository():
    links = [(page, target) for page in PAGES for target in LINK.findall(page.read_text())
             if not re.match(r"[a-z]+://", target)]
    assert len(links) >= 10  # the pages do link each other: the pattern sees them
    broken = [(page.name, target) for page, target in links
              if not (page.parent / target).resolve().is_relative_to(REPO)
              or not (page.parent / target).exists()]
    assert not broken, broken


def test_the_semantics_page_states_the_rules_numbers_rest_on():
    text = (REPO / "docs" / "semantics.md").read_text()
    for rule in ("private_tests", "generated_tests", "1e-5", "1 - C(n-c, k) / C(n, k)", "hypergeometric",
                 "Never a hidden test", "counts as 0"):
        assert rule in text, rule
