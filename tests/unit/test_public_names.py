"""No two public classes of the package share a name: an import must say which one it means."""

import collections
import importlib
import inspect
import pkgutil

import cisync_lib

# may only shrink
KNOWN_CLASHES: set[str] = set()


def _public_packages() -> list[str]:
    found = pkgutil.walk_packages(cisync_lib.__path__, "cisync_lib.")
    names = [m.name for m in found if not any(p.startswith("_") for p in m.name.split("."))]
    return ["cisync_lib", *names]


def test_no_two_public_classes_share_a_name():
    homes: dict[str, set[str]] = collections.defaultdict(set)
    for package in _public_packages():
        module = importlib.import_module(package)
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if inspect.isclass(value):
                homes[name].add(f"{value.__module__}.{value.__qualname__}")
    clashes = {name: sorted(where) for name, where in homes.items() if len(where) > 1}
    assert set(clashes) <= KNOWN_CLASHES, clashes
