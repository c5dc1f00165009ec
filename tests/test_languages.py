"""acodium.languages: every spelling of a language a row, a table or the command line uses, and
what is not a language, refused in one sentence."""

from __future__ import annotations

import pytest

from acodium.errors import UserError
from acodium.languages import (
    LANGUAGE_ENUM_NAMES,
    LANGUAGE_IDS,
    LANGUAGE_NAMES,
    LANGUAGE_OF_SUFFIX,
    RUNNABLE_LANGUAGES,
    SUFFIXES,
    language_id,
    language_name,
)


@pytest.mark.parametrize("spelling, expected", [
    # acodium's names, in any case and with spaces around
    ("python3", 3), ("cpp", 2), ("java", 4), ("python2", 1), ("unknown", 0), (" Python3 ", 3), ("CPP", 2),
    # the dataset's enum names (PYTHON is Python 2 there)
    ("PYTHON3", 3), ("PYTHON", 1), ("CPP", 2), ("JAVA", 4), ("UNKNOWN_LANGUAGE", 0),
    # ids, as numbers and as text
    (3, 3), (0, 0), ("2", 2), (" 4 ", 4),
    # the usual aliases
    ("py3", 3), ("py2", 1), ("c++", 2), ("C++", 2), ("cxx", 2),
])
def test_every_spelling_names_one_dataset_id(spelling, expected):
    assert language_id(spelling) == expected


def test_names_and_ids_round_trip():
    for name, number in LANGUAGE_NAMES.items():
        assert language_id(name) == number and language_name(number) == name
        assert language_id(LANGUAGE_ENUM_NAMES[number]) == number  # the dataset's own enum, in id order
    assert set(RUNNABLE_LANGUAGES) <= set(LANGUAGE_NAMES)
    for name, suffix in SUFFIXES.items():
        assert LANGUAGE_OF_SUFFIX[suffix] == name and name in LANGUAGE_NAMES


def test_the_usual_cpp_suffixes_are_cpp_and_every_suffix_has_a_name():
    assert {s for s, name in LANGUAGE_OF_SUFFIX.items() if name == "cpp"} == {".cpp", ".cc", ".cxx", ".c++"}
    assert set(LANGUAGE_OF_SUFFIX.values()) <= set(LANGUAGE_NAMES)
    assert all(s == s.lower() and s.startswith(".") for s in LANGUAGE_OF_SUFFIX)  # exec run lower-cases a file's suffix


def test_the_real_samples_solution_languages_all_have_names(train_rows):
    seen = {lang for row in train_rows
            for lang in row["solutions"]["language"] + row["incorrect_solutions"]["language"]}
    assert seen and seen <= set(LANGUAGE_IDS)
    assert {language_name(lang) for lang in seen} <= set(LANGUAGE_NAMES)
    assert 3 in seen and language_name(3) == "python3"  # the sample's problems each have a Python 3 solution


def test_language_name_passes_names_through_and_keeps_unknown_ids_visible():
    assert language_name("python3") == "python3" and language_name("cpp") == "cpp"
    assert language_name(7) == "7"  # outside 0-4: its digits, which no backend runs
    assert language_name(True) == "True"  # a bool is not an id


@pytest.mark.parametrize("bad, message", [
    ("python", r"^Language 'python' is ambiguous: say python3 or python2\.$"),
    ("Python", r"^Language 'python' is ambiguous"),
    ("rust", r"^Unknown language 'rust': use one of unknown, python2, cpp, python3, java\.$"),
    ("", r"^Unknown language '': use one of "),
    ("python 3", r"^Unknown language 'python 3'"),
    (5, r"^Language id 5 is not one of the dataset's 0-4\.$"),
    (-1, r"^Language id -1 is not one of the dataset's 0-4\.$"),
    ("9", r"^Language id 9 is not one of the dataset's 0-4\.$"),
    (True, r"^True is not a language\.$"),
    (False, r"^False is not a language\.$"),
])
def test_what_is_not_a_language_is_one_sentence(bad, message):
    with pytest.raises(UserError, match=message) as info:
        language_id(bad)
    assert "\n" not in str(info.value)
