"""Figures: what a reader of the paper needs is on them, and they are saved reproducibly."""

from __future__ import annotations

import pandas as pd
import pytest
from matplotlib.collections import PolyCollection

from acodium import plots
from acodium.errors import UserError


def _curve(values, ks=(1, 2, 5, 10, 20)):
    return pd.DataFrame({
        "k": list(ks), "value": values,
        "ci_low": [max(0.0, v - 0.1) for v in values], "ci_high": [min(1.0, v + 0.1) for v in values],
    })


def test_scaling_figure_has_log_k_axis_labels_bands_and_legend():
    fig = plots.solve_rate_curves(
        {"pass@k": _curve([0.1, 0.2, 0.3, 0.4, 0.5]), "10@k": _curve([0.1, 0.15, 0.25, 0.3, 0.35])},
        title="Solve rate against samples",
    )
    (ax,) = fig.axes
    assert ax.get_xscale() == "log"
    assert "k" in ax.get_xlabel() and ax.get_ylabel() == "Problems solved"
    assert ax.get_title() == "Solve rate against samples"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["pass@k", "10@k"]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2
    # values are drawn as percentages
    assert list(ax.lines[0].get_ydata()) == pytest.approx([10, 20, 30, 40, 50])


def test_a_per_problem_table_is_refused():
    per_problem = pd.concat([_curve([0.1] * 5), _curve([0.2] * 5)])
    with pytest.raises(UserError, match="several rows per k"):
        plots.solve_rate_curves({"pass@k": per_problem}, title="t")


def test_save_figure_writes_png_and_svg_reproducibly(tmp_path):
    def make():
        return plots.solve_rate_curves({"pass@k": _curve([0.1, 0.2, 0.3, 0.4, 0.5])}, title="t")

    first = plots.save_figure(make(), tmp_path / "a", "scaling")
    second = plots.save_figure(make(), tmp_path / "b", "scaling")
    assert [p.name for p in first] == ["scaling.png", "scaling.svg"]
    assert first[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert first[1].read_bytes() == second[1].read_bytes()  # no dates, stable ids
    assert plots.save_figure(make(), "", "scaling") == []  # interactive use saves nothing


def test_parameter_and_policy_figures():
    df = pd.concat([
        _curve([0.2, 0.3, 0.35], ks=(1, 2, 4)).rename(columns={"k": "inputs"}).assign(k=10),
        _curve([0.3, 0.4, 0.45], ks=(1, 2, 4)).rename(columns={"k": "inputs"}).assign(k=100),
    ])
    fig = plots.solve_rate_vs_parameter(df, x="inputs", group="k", group_label="10@{}",
                                        title="t", xlabel="Generated inputs used for clustering")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["10@10", "10@100"]
    assert ax.get_xlabel() == "Generated inputs used for clustering"
    bars = plots.policy_bars(pd.DataFrame({"policy": ["random", "filtered"], "value": [0.1, 0.3],
                                           "ci_low": [0.0, 0.2], "ci_high": [0.2, 0.4]}), title="t")
    assert [t.get_text() for t in bars.axes[0].get_xticklabels()] == ["random", "filtered"]


def test_dataset_figures_on_the_real_sample(train_sample_path):
    from acodium.data import load_problems

    problems = load_problems(str(train_sample_path))
    fig = plots.tag_counts(problems, top=10)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(labels) == 10
    counts = {}
    for tags in problems["cf_tags"]:
        for t in tags:
            counts[t] = counts.get(t, 0) + 1
    assert labels[-1] == max(counts, key=counts.get)  # the most common tag on top
    hist = plots.rating_histogram(problems)
    rated = sum(1 for r in problems["cf_rating"] if r)
    assert (f"{rated} rated" if rated else "none rated") in hist.axes[0].get_title()
    letters = plots.difficulty_counts(problems).axes[0]
    heights = {t.get_text(): b.get_height() for t, b in zip(letters.get_xticklabels(), letters.patches)}
    assert sum(heights.values()) == len(problems)
    assert heights["B"] == sum(1 for d in problems["difficulty"] if d == 8)
    assert plots.tests_per_problem(problems).axes[0].get_ylabel() == "Tests per problem"


def test_tests_per_problem_counts_valid_tests_of_sets_in_any_spelling(train_rows):
    import copy
    import statistics

    import datasets

    from acodium.data import features

    rows = copy.deepcopy(train_rows[:9])
    for row in rows:  # a reference check refuted every private test but the first
        for kind in ("public", "private", "generated"):
            n = len(row[f"{kind}_tests"]["input"])
            row[f"{kind}_tests"]["is_valid_test"] = [kind != "private" or i == 0 for i in range(n)]
    cleaned = datasets.Dataset.from_list(
        rows, features=features([f"{s}_tests.is_valid_test" for s in ("public", "private", "generated")]))

    ax = plots.tests_per_problem(cleaned, ["Private_tests", "public"]).axes[0]
    medians = [line.get_ydata()[0] for line in ax.lines[5::7]]  # boxplot draws 7 lines a box, the median 6th
    assert dict(zip([t.get_text() for t in ax.get_xticklabels()], medians)) == {
        "private": 1, "public": statistics.median(len(r["public_tests"]["input"]) for r in rows)}
    assert statistics.median(len(r["private_tests"]["input"]) for r in rows) > 1  # the refuted ones left out
    assert [t.get_text() for t in plots.tests_per_problem(cleaned).axes[0].get_xticklabels()] == \
        ["public", "private", "generated"]
    with pytest.raises(UserError, match="Unknown test set 'hidden'"):
        plots.tests_per_problem(cleaned, ["hidden"])


def test_budget_ticks_close_together_do_not_overlap():
    # the flow notebook's axis: direct samples at 1-20 calls, flow runs at 13-30 (mean calls a run)
    def budget(xs, vs):
        return pd.DataFrame({"budget": xs, "value": vs})

    fig = plots.solve_rate_curves({
        "direct": budget([1, 2, 5, 10, 20], [0.1, 0.2, 0.3, 0.35, 0.4]),
        "full": budget([14.5, 29.0], [0.3, 0.45]), "no_reflection": budget([40 / 3, 80 / 3], [0.28, 0.4]),
        "no_anchors": budget([15.1, 30.2], [0.3, 0.42]),
    }, x="budget", title="t")
    (ax,) = fig.axes
    fig.canvas.draw()
    shown = [t for t in ax.get_xticklabels() if t.get_text()]
    texts = [t.get_text() for t in shown]
    assert texts[:4] == ["1", "2", "5", "10"] and texts[-1] == "30.2"  # the largest budget is labelled
    assert "13.3" in texts and "13.3333" not in texts  # short numbers
    boxes = sorted((t.get_window_extent() for t in shown), key=lambda b: b.x0)
    assert all(a.x1 <= b.x0 for a, b in zip(boxes, boxes[1:]))  # no label runs into the next
    assert len(ax.get_xticks()) == 11  # every budget keeps its tick
