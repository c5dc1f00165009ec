"""How counts and costs read in what acodium prints."""

from acodium.wording import cost_text, plural, text_table


def test_plural_takes_the_number():
    assert [plural(n, "sample") for n in (0, 1, 2)] == ["0 samples", "1 sample", "2 samples"]
    assert plural(1, "fix", "fixes") == "1 fix" and plural(3, "fix", "fixes") == "3 fixes"


def test_cost_says_unpriced_instead_of_a_made_up_number():
    assert cost_text(0.01234) == "$0.0123" and cost_text(0.0) == "$0.0000"
    assert cost_text(None) == "unpriced" and cost_text(0.0, unpriced_calls=3) == "unpriced"
    assert cost_text(0.01, unpriced_calls=1) == "$0.0100 + 1 unpriced call"
    assert cost_text(0.5, unpriced_calls=2, digits=2) == "$0.50 + 2 unpriced calls"


def test_a_text_table_aligns_its_columns_to_the_left():
    rows = [{"problem": "A. Long name", "kept": "yes"}, {"problem": "B", "kept": "no"}]
    assert text_table(rows).splitlines() == ["problem       kept", "A. Long name  yes", "B             no"]
    assert text_table([], ["problem"]) == "problem"
