"""acodium.prompting: prompt files, filling them from problem rows, AlphaCode's metadata diversity."""

from __future__ import annotations

import re

import pytest

from acodium.errors import UserError
from acodium.prompting import (
    CODEFORCES_TAGS, PROMPTS_DIR, RATINGS, Diversity, ProblemPrompt, fill, load_prompt_file, messages_hash,
    prompt_path,
)

ROW = {
    "name": "1_A. Sum", "description": "Print a + b.\n",
    "public_tests": {"input": ["1 2\n", "5 5\n"], "output": ["3\n", "10\n"]},
    "cf_tags": ["math", "*800", "", "implementation"], "cf_rating": 800,
}


# --------------------------------------------------------------------------- prompt files


def test_prompts_are_found_by_name_or_by_path(tmp_path):
    assert prompt_path("direct") == PROMPTS_DIR / "direct.toml"
    mine = tmp_path / "mine.toml"
    mine.write_text('user = "Solve ${name}."\n')
    assert prompt_path(mine) == mine and prompt_path(str(mine)) == mine
    with pytest.raises(UserError, match=r"No prompt 'nope': give a \.toml path or one of alphacode, direct, flow, score_program, test_inputs\."):
        prompt_path("nope")
    with pytest.raises(UserError, match="No prompt .*missing.toml"):
        prompt_path(tmp_path / "missing.toml")
    assert load_prompt_file("flow")  # multi-stage files load raw


@pytest.mark.parametrize("language, display, fence", [("python3", "Python 3", "python"), ("cpp", "C++17", "cpp")])
def test_the_direct_prompt_holds_the_statement_examples_metadata_and_language(language, display, fence):
    prompt = ProblemPrompt.load("direct", language)
    system, user = prompt.messages(ROW, ["math"], 800)
    assert system["role"] == "system" and "competitive programmer" in system["content"]
    text = user["content"]
    assert user["role"] == "user" and "Print a + b." in text and "1_A" not in text
    assert f"in {display}." in text and text.endswith(f"```{fence} code block.")
    assert "Input:\n```\n1 2\n```\nOutput:\n```\n3\n```" in text  # outputs without their newline
    assert text.index("Tags: math\nDifficulty rating: 800\n") < text.index("## Problem")
    assert "${" not in text


def test_no_examples_and_no_metadata_leave_no_trace():
    prompt = ProblemPrompt.load("direct")
    text = prompt.messages({"name": "n", "description": "Stmt."})[-1]["content"]
    assert "## Examples" not in text and "Tags:" not in text and "rating" not in text
    assert "Solve the following competitive-programming problem in Python 3.\n\n## Problem\n\nStmt.\n" in text


def test_the_alphacode_prompt_ends_where_the_program_starts():
    prompt = ProblemPrompt.load("alphacode")
    user = prompt.messages(ROW, ["dp", "greedy"], 1700)[-1]["content"]
    assert user.endswith("TAGS: dp, greedy\nRATING: 1700\nLANGUAGE IS python3\nCORRECT SOLUTION\n```python")


def test_a_prompt_file_of_ones_own(tmp_path):
    path = tmp_path / "terse.toml"
    path.write_text('user = "${name}: ${statement} [${tags}|${rating}] $$5 in ${language}"\n'
                    '[languages.cpp]\ndisplay = "C++20"\n')
    prompt = ProblemPrompt.load(path, "cpp")
    assert (prompt.name, prompt.system, prompt.fence) == ("terse", "", "cpp")  # the fence defaults to the id
    assert prompt.messages(ROW, ["math"], None) == [
        {"role": "user", "content": "1_A. Sum: Print a + b. [math|] $5 in C++20"}]


@pytest.mark.parametrize("content, message", [
    (b'user = "x\n', r"is not valid TOML"),
    (b'user = "caf\xe9"\n', r"is not UTF-8 text \(byte 0xe9 at position 11\)"),
    (b'system = "only a system"\n', r"has no 'user' template"),
    (b'user = ["a", "b"]\n', r"The 'user' template of the prompt file .* must be text, not list"),
    (b'user = "x"\nsystem = 3\n', r"The 'system' template .* must be text, not int"),
    (b'user = "x"\nlanguages = "python"\n', r"needs \[languages\.python3\] as a table of text 'display' and 'fence'"),
    (b'user = "x"\n[languages]\npython3 = 1\n', r"needs \[languages\.python3\]"),
    (b'user = "x"\n[languages.python3]\nfence = 1\n', r"needs \[languages\.python3\]"),
])
def test_a_bad_prompt_file_is_one_sentence(tmp_path, content, message):
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message) as info:
        ProblemPrompt.load(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_a_folder_named_like_a_prompt_is_no_prompt(tmp_path):
    (tmp_path / "folder.toml").mkdir()
    with pytest.raises(UserError, match="No prompt"):
        ProblemPrompt.load(tmp_path / "folder.toml")


def test_an_unknown_target_language_is_refused():
    with pytest.raises(UserError, match="target language must be one of python3, cpp, java, not 'python2'"):
        ProblemPrompt.load("direct", "python2")


@pytest.mark.parametrize("template, where, message", [
    ("Solve ${nothing}.", "user prompt", r"The user prompt uses \$\{nothing\}, which no problem field provides\."),
    ("Costs $5.", "system prompt", r"The system prompt has a malformed placeholder"),
])
def test_filling_a_template_that_cannot_be_filled_is_one_sentence(template, where, message):
    with pytest.raises(UserError, match=message):
        fill(template, {"name": "x"}, where)


def test_a_bad_piece_names_itself(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('user = "${examples}"\nexample = "${input} -> ${answer}"\n')
    with pytest.raises(UserError, match=r"The example piece uses \$\{answer\}"):
        ProblemPrompt.load(path).messages(ROW)


def test_braces_need_no_escaping():
    assert fill("int main() { return ${x}; }", {"x": 0}) == "int main() { return 0; }"


# --------------------------------------------------------------------------- diversity and identity


def test_true_metadata_is_the_problems_own_without_difficulty_tags():
    assert Diversity().choose(ROW, 0) == (["math", "implementation"], 800)
    assert Diversity().choose({"name": "x", "cf_rating": 0}, 0) == ([], None)  # 0 means unknown
    assert Diversity(tags="none", rating="none").choose(ROW, 5) == ([], None)


def test_random_metadata_is_drawn_per_sample_from_the_codeforces_vocabulary():
    diversity = Diversity(tags="random", rating="random", seed=3)
    draws = [diversity.choose(ROW, i) for i in range(40)]
    assert draws == [diversity.choose(ROW, i) for i in range(40)]  # deterministic
    assert draws != [Diversity(tags="random", rating="random", seed=4).choose(ROW, i) for i in range(40)]
    assert diversity.choose({**ROW, "name": "other"}, 0) != draws[0] or diversity.choose(
        {**ROW, "name": "other"}, 1) != draws[1]
    for tags, rating in draws:
        assert 1 <= len(tags) <= 3 and tags == sorted(set(tags)) and set(tags) <= set(CODEFORCES_TAGS)
        assert rating in RATINGS
    assert len({r for _, r in draws}) > 5 and len({tuple(t) for t, _ in draws}) > 20
    mixed = Diversity(tags="true", rating="random", seed=3).choose(ROW, 0)
    assert mixed[0] == ["math", "implementation"] and mixed[1] in RATINGS


def test_an_unknown_diversity_mode_is_refused():
    with pytest.raises(UserError, match="The tags mode must be one of true, random, none, not 'some'"):
        Diversity(tags="some")
    with pytest.raises(UserError, match="The rating mode"):
        Diversity(rating=True)


def test_the_hash_of_a_prompt_is_stable_and_short():
    messages = [{"role": "user", "content": "Solve \u00e9"}]
    # candidates tables record it (meta prompt_hash): the value for the same messages may never change
    assert messages_hash(messages) == "b7732b1cdaeebb8f"
    assert messages_hash([{"content": "Solve \u00e9", "role": "user"}]) == "b7732b1cdaeebb8f"  # key order
    assert messages_hash([{"role": "user", "content": "Solve e"}]) != "b7732b1cdaeebb8f"
    assert re.fullmatch(r"[0-9a-f]{16}", messages_hash([]))


def test_every_real_problem_gives_a_filled_prompt(train_rows):
    direct, alphacode = ProblemPrompt.load("direct"), ProblemPrompt.load("alphacode", "cpp")
    diversity = Diversity(tags="random", rating="random")
    hashes = set()
    for i, row in enumerate(train_rows):
        tags, rating = diversity.choose(row, i)
        for prompt in (direct, alphacode):
            messages = prompt.messages(row, tags, rating)
            user = messages[-1]["content"]
            assert row["description"].strip()[:200] in user and "${" not in user
            hashes.add(messages_hash(messages))
    assert len(hashes) == 2 * len(train_rows)
