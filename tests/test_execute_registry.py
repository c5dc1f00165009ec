"""`get_backend`: backends by name, one live instance per (name, options)."""

from __future__ import annotations

import importlib

import pytest

from acodium.errors import UserError
from acodium.execute import BACKENDS, Backend, get_backend
from acodium.execute.local import LocalBackend


def test_every_registered_name_is_its_backends_own_name():
    """The name is part of every cache key: the registry and the class must agree on it."""
    for name, (module, cls) in BACKENDS.items():
        backend_class = getattr(importlib.import_module(module), cls)
        assert issubclass(backend_class, Backend) and backend_class.name == name


@pytest.mark.parametrize("name", ["docker", "Local", ""])
def test_an_unknown_name_is_one_sentence_naming_the_choices(name):
    with pytest.raises(UserError) as caught:
        get_backend(name)
    assert str(caught.value) == f"Unknown execution backend {name!r}: choose one of local, code_contests."


def test_a_backend_instance_is_taken_as_it_is():
    class Mine(Backend):
        def run(self, job):
            return []

    mine = Mine()
    assert get_backend(mine) is mine


def test_one_instance_per_name_and_options_until_it_is_closed():
    one = get_backend("local", workers=1, cgroups=False)
    try:
        assert isinstance(one, LocalBackend) and one.max_workers == 1 and "rlimits" in one.version()
        assert get_backend("local", cgroups=False, workers=1) is one  # the order of options does not matter
        other = get_backend("local", workers=2, cgroups=False)
        assert other is not one and other.max_workers == 2
        one.close()
        again = get_backend("local", workers=1, cgroups=False)
        assert again is not one and not again._closed  # a closed backend is replaced, not handed out
    finally:
        for backend in (get_backend("local", workers=1, cgroups=False), get_backend("local", workers=2, cgroups=False)):
            backend.close()


def test_options_a_backend_does_not_take_are_an_error():
    with pytest.raises(TypeError):
        get_backend("local", no_such_option=True)
