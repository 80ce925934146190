"""The one atomic file writer every saved file goes through."""

import os
import stat

import pytest

import cisync_lib.files
from cisync_lib._atomic import write_atomic


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_private_files_are_private_and_existing_modes_are_kept(tmp_path):
    secret = tmp_path / "cache.json"
    write_atomic(secret, "{}", mode=0o600)
    assert _mode(secret) == 0o600
    shared = tmp_path / "config.toml"
    shared.write_text("a = 1\n")
    os.chmod(shared, 0o640)
    write_atomic(shared, "a = 2\n")
    assert shared.read_text() == "a = 2\n"
    assert _mode(shared) == 0o640


def test_a_failed_write_leaves_the_original_and_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "plan.json"
    target.write_text("old")

    def boom(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_the_public_home_is_the_same_writer():
    assert cisync_lib.files.write_atomic is write_atomic
    assert cisync_lib.files.PRIVATE == 0o600
