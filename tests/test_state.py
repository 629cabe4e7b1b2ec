"""The state file: checked before a run, written atomically with only permission bits."""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any

import pytest
from provision_support import clients, document, new_pool, unique

from cognises._report import ProgressEvent
from cognises._state import check_state_path, write_json_atomic
from cognises.aio import create_update
from cognises.errors import ConfigurationError, ProvisioningError
from cognises.testing._emulator import FaultInjector, MotoEmulator


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


def test_an_existing_file_keeps_only_its_permission_bits(tmp_path: Path) -> None:
    # Through a symlink, as a state_path often is: the mode read is the target's.
    real = tmp_path / "real.json"
    real.write_text("[]")
    real.chmod(0o4755 | stat.S_ISGID)
    link = tmp_path / "groups.json"
    link.symlink_to(real)

    write_json_atomic(link, ["new"])

    assert stat.S_IMODE(link.stat().st_mode) == 0o755
    assert json.loads(link.read_text()) == ["new"]


@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_gets_the_umask(tmp_path: Path, umask: int, expected: int) -> None:
    target = tmp_path / "groups.json"
    previous = os.umask(umask)
    try:
        write_json_atomic(target, [])
    finally:
        os.umask(previous)

    assert stat.S_IMODE(target.stat().st_mode) == expected


def test_the_temp_file_over_an_existing_document_is_never_wider_than_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "groups.json"
    target.write_text("[]")
    target.chmod(0o600)
    seen: list[int] = []
    real_replace = os.replace

    def spy(src: Any, dst: Any) -> None:
        seen.append(stat.S_IMODE(os.stat(src).st_mode))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    previous = os.umask(0)
    try:
        write_json_atomic(target, [])
    finally:
        os.umask(previous)

    assert seen == [0o600]


def test_check_state_path_accepts_a_new_or_existing_file(tmp_path: Path) -> None:
    existing = tmp_path / "groups.json"
    existing.write_text("[]")

    assert check_state_path(existing) == existing
    assert check_state_path(str(tmp_path / "new.json")) == tmp_path / "new.json"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["groups.json"]


def test_check_state_path_refuses_what_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    cases = {
        tmp_path: "expected a file, found the directory",
        tmp_path / "missing" / "groups.json": "expected a file in an existing directory",
        tmp_path / "afile" / "groups.json": "expected a file in a directory this process can",
        Path(os.devnull): "expected a regular file, found",
    }
    for path, expected in cases.items():
        with pytest.raises(ConfigurationError, match=f"state_path: {expected}"):
            check_state_path(path)
    with pytest.raises(ConfigurationError, match="state_path: expected a file path, found 3"):
        check_state_path(3)  # type: ignore[arg-type]


def test_check_state_path_refuses_a_directory_it_cannot_write_to() -> None:
    # Root writes through permission bits, so as root the check runs as nobody (effective
    # ids only, restored at once); the folders must then be ones nobody can walk, which
    # pytest's private tmp_path is not.
    base = Path(tempfile.mkdtemp(prefix="cognises-state-"))
    root = os.geteuid() == 0
    try:
        base.chmod(0o755)
        locked = base / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        if root:
            os.setegid(65534)
            os.seteuid(65534)
        try:
            with pytest.raises(ConfigurationError) as info:
                check_state_path(locked / "groups.json")
        finally:
            if root:
                os.seteuid(0)
                os.setegid(0)
        assert str(info.value) == (
            f"state_path: expected a directory this process can write to, found "
            f"{str(locked)!r}: Permission denied"
        )
        assert list(locked.iterdir()) == []
    finally:
        shutil.rmtree(base)


IDENTITY_POOL = "us-east-1:0a1b2c3d-0000-4000-8000-123456789abc"


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_create_update_checks_the_state_path_before_any_aws_call(
    moto_server: MotoEmulator, faults: FaultInjector, tmp_path: Path
) -> None:
    doc = document(unique(), 1)
    (tmp_path / "afile").write_text("")
    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        faults.reset()
        for bad in (tmp_path, tmp_path / "missing" / "s.json", tmp_path / "afile" / "s.json"):
            with pytest.raises(ConfigurationError, match="state_path: expected a"):
                await create_update(
                    doc, iam, cognito, pool_id, identity_pool_id=IDENTITY_POOL, state_path=bad
                )
        assert faults.actions(include_throttled=True) == []
    assert doc[0]["created"] == "false"


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_state_file_that_cannot_be_written_after_the_run_raises_with_the_report(
    moto_server: MotoEmulator, tmp_path: Path
) -> None:
    doc = document(unique(), 2)
    state = tmp_path / "groups.json"

    def block_the_state_path(event: ProgressEvent) -> None:
        # Something else takes the name while the run is under way.
        if event.report is not None and not state.exists():
            state.mkdir()

    async with clients(moto_server) as (iam, cognito):
        pool_id = await new_pool(cognito)
        with pytest.raises(ProvisioningError) as info:
            await create_update(
                doc,
                iam,
                cognito,
                pool_id,
                identity_pool_id=IDENTITY_POOL,
                state_path=state,
                on_progress=block_the_state_path,
            )

    report = info.value.report
    assert report.ok
    assert report.counts["created"] == 2
    assert str(info.value) == (
        f"state_path: expected to write the document to {str(state)!r}, found Is a "
        f"directory; the run: {report.summary()}"
    )
    assert isinstance(info.value.__cause__, IsADirectoryError)
    assert os.listdir(tmp_path) == ["groups.json"], "the temp file is removed"
