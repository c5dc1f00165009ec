"""How much of each correct sample is copied from human solutions: the longest common substring.

AlphaCode (Li et al. 2022, section 6.1) measured copying as the longest substring
a correct sample shares with the training set, and showed its distribution beside
the same statistic for human solutions (`human_copying`). Here the reference
corpus is a set of human solutions in the sample's language: those of the
run's own problems (did the model reproduce the dataset's solutions?), or of
another dataset's problems, the run's own left out (AlphaCode's question:
copying from a training set), indexed once in a suffix automaton (`SuffixAutomaton`: pure Python,
linear in the corpus to build); each sample is then matched in time linear in
its own length, whatever the corpus size (matching statistics along the
automaton's suffix links). On the shared sample's 200 solutions (273K characters,
bench/copying.py) it builds at about 780K characters/s with 1.6 states and about
420 bytes of memory per corpus character (so a corpus of some 2.5M characters
takes a gigabyte), and matches at about 2.3M sample characters/s.
"""

from __future__ import annotations

from typing import Iterable, NamedTuple

import numpy as np
import pandas as pd

from ..data import problem_rows
from ..data.problem import Problem
from ..errors import UserError
from ..evaluation import has_code
from ..progress import progress_bar

# Between two documents of a corpus: no sample holds it, so no match runs across documents.
SEPARATOR = "\x00"


class Match(NamedTuple):
    """The longest common substring: its length in characters and where it ends in the sample."""

    length: int
    end: int

    def text(self, sample: str) -> str:
        return sample[self.end - self.length:self.end]


class SuffixAutomaton:
    """The suffix automaton of a corpus of documents: every substring of a document is a path from the root.

    States are kept in three parallel lists (transitions as one dict a state,
    suffix links, longest lengths); a corpus of N characters has at most 2N
    states. Documents are joined by `SEPARATOR`, which a query never follows.
    """

    def __init__(self, documents: Iterable[str] = ()):
        self.next: list[dict[str, int]] = [{}]
        self.link: list[int] = [-1]
        self.length: list[int] = [0]
        self.documents = 0
        self.characters = 0
        self._last = 0
        for doc in documents:
            self.add(doc)

    def add(self, document: str) -> None:
        """Append one document (its text without SEPARATOR) to the indexed corpus."""
        if self.documents:
            self._extend(SEPARATOR)
        for ch in document.replace(SEPARATOR, ""):
            self._extend(ch)
        self.documents += 1
        self.characters += len(document)

    def _extend(self, ch: str) -> None:
        nxt, link, length = self.next, self.link, self.length
        cur = len(length)
        length.append(length[self._last] + 1)
        link.append(0)
        nxt.append({})
        p = self._last
        while p != -1 and ch not in nxt[p]:
            nxt[p][ch] = cur
            p = link[p]
        if p != -1:
            q = nxt[p][ch]
            if length[p] + 1 == length[q]:
                link[cur] = q
            else:
                clone = len(length)
                length.append(length[p] + 1)
                link.append(link[q])
                nxt.append(dict(nxt[q]))
                while p != -1 and nxt[p].get(ch) == q:
                    nxt[p][ch] = clone
                    p = link[p]
                link[q] = clone
                link[cur] = clone
        self._last = cur

    @property
    def states(self) -> int:
        return len(self.length)

    def longest_common_substring(self, sample: str) -> Match:
        """The longest substring of `sample` that occurs in some document of the corpus."""
        nxt, link, length = self.next, self.link, self.length
        state, matched, best, end = 0, 0, 0, 0
        for i, ch in enumerate(sample):
            if ch == SEPARATOR:
                state, matched = 0, 0
                continue
            if ch in nxt[state]:
                state = nxt[state][ch]
                matched += 1
            else:
                while state != -1 and ch not in nxt[state]:
                    state = link[state]
                if state == -1:
                    state, matched = 0, 0
                    continue
                matched = length[state] + 1
                state = nxt[state][ch]
            if matched > best:
                best, end = matched, i + 1
        return Match(best, end)


def brute_force_lcs(sample: str, documents: Iterable[str]) -> int:
    """The longest common substring's length by dynamic programming, O(|sample| x |corpus|): for tests."""
    best = 0
    for doc in documents:
        previous = [0] * (len(doc) + 1)
        for a in sample:
            current = [0] * (len(doc) + 1)
            for j, b in enumerate(doc, 1):
                if a == b and a != SEPARATOR:
                    current[j] = previous[j - 1] + 1
                    best = max(best, current[j])
            previous = current
    return best


def reference_corpus(problems, languages: Iterable[str], exclude: Iterable[str] = ()) -> dict[str, list[str]]:
    """The accepted human solutions of `problems` (rows or a table), by language, for the languages asked;
    the problems named in `exclude` left out."""
    wanted, left_out = set(languages), set(exclude)
    corpus: dict[str, list[str]] = {language: [] for language in wanted}
    for name, row in problem_rows(problems).items():
        if name in left_out:
            continue
        for language, code in Problem(row).solutions():
            if language in wanted and code:
                corpus[language].append(code)
    return corpus


COPYING_COLUMNS = ["of", "problem", "candidate_id", "language", "sample_chars", "lcs_chars", "lcs_share", "lcs_text"]
SAMPLES, HUMANS = "correct samples", "human solutions"  # the `of` column: whose copying a row measures


def _longest_matches(programs: pd.DataFrame, corpus: dict[str, list[str]], of: str, progress: bool) -> pd.DataFrame:
    """`programs` (problem, candidate_id, language, code) matched against the corpus of their language."""
    missing = sorted(language for language in set(programs["language"]) if not corpus.get(language))
    if missing:
        raise UserError(f"The reference corpus holds no human solution in {', '.join(missing)}, the language of "
                        "some programs: give a reference dataset with solutions in it.")
    rows = []
    used = {language: corpus[language] for language in set(programs["language"])}
    with progress_bar(progress=progress, total=len(programs) + sum(len(d) for d in used.values()),
                      desc=f"Copying of {of} (longest common substrings)", unit="program") as bar:
        automata = {}
        for language, docs in used.items():
            automata[language] = SuffixAutomaton()
            for doc in docs:
                automata[language].add(doc)
                bar.update(1)
        for r in programs.itertuples(index=False):
            match = automata[r.language].longest_common_substring(r.code)
            rows.append({"of": of, "problem": r.problem, "candidate_id": r.candidate_id, "language": r.language,
                         "sample_chars": len(r.code), "lcs_chars": match.length,
                         "lcs_share": match.length / len(r.code), "lcs_text": match.text(r.code)})
            bar.update(1)
    return pd.DataFrame(rows, columns=COPYING_COLUMNS)


def copying(candidates: pd.DataFrame, judgements: pd.DataFrame, reference, *, correct_only: bool = True,
            exclude: Iterable[str] = (), progress: bool = True) -> pd.DataFrame:
    """For each correct sample (every sample with code when `correct_only` is False), the longest
    substring it shares with the human solutions of `reference` (problems, in the sample's language,
    those named in `exclude` left out).

    One row per sample: sample_chars, lcs_chars, lcs_share (lcs_chars / sample_chars)
    and the substring itself. A language the reference has no solution in is one sentence.
    """
    table = candidates.merge(judgements[["problem", "candidate_id", "correct"]], on=["problem", "candidate_id"])
    table = table[[has_code(code) for code in table["code"]]]
    if correct_only:
        table = table[table["correct"].astype(bool)]
    corpus = reference_corpus(reference, set(table["language"]), exclude)
    return _longest_matches(table, corpus, SAMPLES, progress)


def human_copying(problems, reference, languages: Iterable[str], *, progress: bool = True) -> pd.DataFrame:
    """AlphaCode's baseline: the same measure for the accepted human solutions of `problems` (in
    `languages`), against the human solutions of the other problems of `reference` (a problem's own
    solutions left out: each would be found whole)."""
    rows = problem_rows(problems)
    programs = pd.DataFrame([
        {"problem": name, "candidate_id": f"human-{j}", "language": language, "code": code}
        for name, row in rows.items() for j, (language, code) in enumerate(Problem(row).solutions())
        if language in set(languages) and code], columns=["problem", "candidate_id", "language", "code"])
    corpus = reference_corpus(reference, set(programs["language"]), exclude=rows)
    return _longest_matches(programs, corpus, HUMANS, progress)


def copying_distribution(copied: pd.DataFrame, quantiles=(0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)) -> pd.DataFrame:
    """The distribution of `copying`'s (and `human_copying`'s) longest common substrings, by whose they are
    and language: quantiles of the length in characters and of the share of the program it covers."""
    rows = []
    for (of, language), group in copied.groupby(["of", "language"], sort=True):
        for q in quantiles:
            rows.append({"of": of, "language": language, "quantile": q, "programs": len(group),
                         "lcs_chars": float(np.quantile(group["lcs_chars"], q)),
                         "lcs_share": float(np.quantile(group["lcs_share"], q))})
    return pd.DataFrame(rows, columns=["of", "language", "quantile", "programs", "lcs_chars", "lcs_share"])
