"""Programming languages: the dataset's ids, acodium's names, and file suffixes.

The ground floor: every stage may import this module, and it imports no stage.
CodeContests numbers its languages (`solutions.language`): 1 is Python 2 (the
dataset calls it PYTHON), 2 C++, 3 Python 3, 4 Java.
"""

from __future__ import annotations

from typing import Any

from .errors import UserError

# acodium's names by the dataset's ids, and back.
LANGUAGE_IDS = {0: "unknown", 1: "python2", 2: "cpp", 3: "python3", 4: "java"}
LANGUAGE_NAMES = {v: k for k, v in LANGUAGE_IDS.items()}
# The dataset's own enum names (contest_problem.proto), in id order.
LANGUAGE_ENUM_NAMES = ["UNKNOWN_LANGUAGE", "PYTHON", "CPP", "PYTHON3", "JAVA"]
# What the execution backends can run (the local sandbox: all four, Python 2 and Java where
# their runtime is found, `Backend.missing_runtime`; code_contests: python3 only).
RUNNABLE_LANGUAGES = ("python3", "cpp", "java", "python2")
# File suffixes of source files, by language name, and back (the other usual C++
# suffixes read as cpp too, so that `gencode exec run prog.cc` knows its language).
SUFFIXES = {"python3": ".py", "cpp": ".cpp", "java": ".java"}
LANGUAGE_OF_SUFFIX = {**{suffix: name for name, suffix in SUFFIXES.items()},
                      ".cc": "cpp", ".cxx": "cpp", ".c++": "cpp"}

# Spellings accepted for a language, besides acodium's own names.
_ALIASES = {"py2": 1, "c++": 2, "cxx": 2, "py3": 3}


def language_id(language: str | int) -> int:
    """The dataset's language id for a name (python3, cpp, java, python2, PYTHON3, 3...)."""
    if isinstance(language, bool):
        raise UserError(f"{language!r} is not a language.")
    if isinstance(language, int):
        if language in LANGUAGE_IDS:
            return language
        raise UserError(f"Language id {language} is not one of the dataset's 0-4.")
    if str(language).strip() in LANGUAGE_ENUM_NAMES:  # the dataset's own names: PYTHON is Python 2
        return LANGUAGE_ENUM_NAMES.index(str(language).strip())
    key = str(language).strip().lower()
    if key.isdigit():
        return language_id(int(key))
    if key in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[key]
    if key in _ALIASES:
        return _ALIASES[key]
    if key == "python":
        raise UserError("Language 'python' is ambiguous: say python3 or python2.")
    raise UserError(f"Unknown language {language!r}: use one of {', '.join(LANGUAGE_NAMES)}.")


def language_name(language: Any) -> str:
    """acodium's name for a language given as a dataset id (3) or already as a name ('python3').

    Names pass through unchanged (a table's `language` column holds names); an
    id outside the dataset's 0-4 becomes its digits, which no backend runs.
    """
    if isinstance(language, int) and not isinstance(language, bool):
        return LANGUAGE_IDS.get(language, str(language))
    return str(language)
