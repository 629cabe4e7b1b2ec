"""The atomic write of the group document."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from cognises._state import write_json_atomic


def test_writes_the_document_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "groups.json"

    written = write_json_atomic(target, [{"group_name": "é", "created": "true"}])

    assert written == target
    assert json.loads(target.read_text(encoding="utf-8")) == [
        {"group_name": "é", "created": "true"}
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["groups.json"]


def test_an_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "groups.json"
    target.write_text("[]")
    target.chmod(0o640)

    write_json_atomic(target, [])

    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_failed_replace_keeps_the_old_file_and_removes_the_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "groups.json"
    target.write_text('["old"]')

    def broken_replace(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)

    with pytest.raises(OSError, match="No space left"):
        write_json_atomic(target, ["new"])

    assert target.read_text() == '["old"]'
    assert [p.name for p in tmp_path.iterdir()] == ["groups.json"]


def test_a_document_that_is_not_json_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "groups.json"

    with pytest.raises(TypeError):
        write_json_atomic(target, [object()])

    assert list(tmp_path.iterdir()) == []
