"""The top level re-exports the entry points, models, settings and errors from their homes."""

import importlib

import pytest

import cisync_lib
import cisync_lib.errors


@pytest.mark.parametrize("name", [n for n in cisync_lib.__all__ if n != "__version__"])
def test_each_name_is_the_object_of_a_public_home(name):
    value = getattr(cisync_lib, name)
    home = importlib.import_module(value.__module__)
    # the public home is the defining module's package face (or the module itself)
    package = value.__module__.rsplit("._", 1)[0]
    assert getattr(home, name) is value
    assert getattr(importlib.import_module(package), name) is value


def test_every_error_is_at_the_top_level():
    assert set(cisync_lib.errors.__all__) <= set(cisync_lib.__all__)


def test_unknown_names_raise_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        cisync_lib.Nope  # noqa: B018


def test_dir_lists_the_public_names():
    assert dir(cisync_lib) == sorted(cisync_lib.__all__)
