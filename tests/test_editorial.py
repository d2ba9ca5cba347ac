"""Editorial state (SQLite, outside build/) and the catalogue built from manifests: approve, withdraw,
approval pinned to the script version, two writers at once, and the CLI commands that refresh playlists."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from pipeline import editorial
from pipeline.catalogue import load_catalogue
from pipeline.cli import main
from pipeline.config import load_settings
from pipeline.editorial import APPROVED, NOT_APPROVED, WITHDRAWN, EditorialError

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
SCRIPT = """\
---
id: {id}
kind: program
title: Chương trình {id}
series: Giảm nghèo về thông tin
producer: Đài truyền thanh xã C
template: standard
voices: {{A: female}}
valid_from: 2025-01-01
valid_until: 2099-12-31
targets: [tinh-a]
priority: normal
{extra}---

A: {body}
"""


def add_program(
    project: Path, program_id: str, seconds: float = 200, extra: str = "", body: str = "Nội dung."
) -> Path:
    """What `radio build` leaves for one program: the script, its audio file and its manifest."""
    script = project / "scripts" / f"{program_id}.md"
    script.write_text(SCRIPT.format(id=program_id, extra=extra, body=body), encoding="utf-8")
    programs = project / "build" / "programs"
    programs.mkdir(parents=True, exist_ok=True)
    audio = os.urandom(2000)
    (programs / f"{program_id}.mp3").write_bytes(audio)
    manifest = {
        "id": program_id, "kind": "program", "title": f"Chương trình {program_id}",
        "file": f"{program_id}.mp3",
        "duration_s": seconds, "bytes": len(audio), "sha256": hashlib.sha256(audio).hexdigest(),
        "targets": ["tinh-a"], "valid_from": "2025-01-01", "valid_until": "2099-12-31", "priority": "normal",
        "script": f"scripts/{program_id}.md",
        "script_sha256": hashlib.sha256(script.read_bytes()).hexdigest(),
    }  # fmt: skip
    (programs / f"{program_id}.json").write_text(json.dumps(manifest), encoding="utf-8")
    return script


def states(project: Path) -> dict[str, str]:
    settings = load_settings(project / "radio.toml")
    catalogue, _ = load_catalogue(
        settings.programs_dir, settings.root, editorial.latest_decisions(settings.state_dir)
    )
    return {p.id: p.state for p in catalogue.programs}


def test_approval_is_recorded_with_name_time_and_version(project: Path) -> None:
    add_program(project, "a")
    state_dir = project / "state"
    assert not editorial.db_path(state_dir).exists() and states(project) == {"a": NOT_APPROVED}
    sha = json.loads((project / "build/programs/a.json").read_text(encoding="utf-8"))["script_sha256"]
    [decision] = editorial.approve(state_dir, {"a": sha}, "Nguyễn Văn A", NOW)
    assert (decision.action, decision.by, decision.at) == (
        "approve",
        "Nguyễn Văn A",
        "2026-11-24T08:00:00+07:00",
    )
    assert editorial.approve(state_dir, {"a": sha}, "Nguyễn Văn A", NOW) == []  # idempotent
    assert states(project) == {"a": APPROVED}
    assert editorial.latest_decisions(state_dir)["a"].script_sha256 == sha
    with pytest.raises(EditorialError, match="must not be empty"):
        editorial.approve(state_dir, {"a": sha}, "  ", NOW)


def test_state_lives_outside_build_and_survives_cleaning_it(project: Path) -> None:
    add_program(project, "a")
    settings = load_settings(project / "radio.toml")
    assert not settings.state_dir.is_relative_to(settings.build_dir)
    sha = json.loads((project / "build/programs/a.json").read_text(encoding="utf-8"))["script_sha256"]
    editorial.approve(settings.state_dir, {"a": sha}, "A", NOW)
    shutil.rmtree(project / "build")
    add_program(project, "a")  # rebuilt from the same script
    assert states(project) == {"a": APPROVED}


def test_an_edited_script_needs_a_new_approval(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    add_program(project, "a")
    monkeypatch.chdir(project)
    assert CliRunner().invoke(main, ["approve", "a", "--by", "A"]).exit_code == 0
    add_program(project, "a", body="Nội dung mới.")  # edited and rebuilt
    assert states(project) == {"a": NOT_APPROVED}
    add_program(project, "a")  # back to the approved text
    assert states(project) == {"a": APPROVED}


def test_withdraw_then_approve_again(project: Path) -> None:
    add_program(project, "a")
    state_dir = project / "state"
    assert [d.action for d in editorial.withdraw(state_dir, ["a"], "B", NOW)] == ["withdraw"]
    assert editorial.withdraw(state_dir, ["a"], "B", NOW) == []
    assert states(project) == {"a": WITHDRAWN}
    sha = json.loads((project / "build/programs/a.json").read_text(encoding="utf-8"))["script_sha256"]
    editorial.approve(state_dir, {"a": sha}, "C", NOW + timedelta(hours=1))
    assert states(project) == {"a": APPROVED}
    assert [d.action for d in editorial.history(state_dir, "a")] == ["withdraw", "approve"]


def _approve_many(state_dir: str, prefix: str) -> int:
    return sum(
        len(
            editorial.approve(
                Path(state_dir), {f"{prefix}{i}": "0" * 64}, prefix, datetime.now().astimezone()
            )
        )
        for i in range(40)
    )


def test_two_processes_write_at_once(tmp_path: Path) -> None:
    with ProcessPoolExecutor(2) as pool:
        done = list(pool.map(_approve_many, [str(tmp_path)] * 2, ["x", "y"]))
    assert done == [40, 40]
    assert len(editorial.latest_decisions(tmp_path)) == 80
    assert editorial.fingerprint(tmp_path) == 80


def test_unusable_database_is_a_clear_error(tmp_path: Path) -> None:
    editorial.db_path(tmp_path).write_bytes(b"this is not a database" * 100)
    with pytest.raises(EditorialError) as info:
        editorial.latest_decisions(tmp_path)
    assert info.value.path == editorial.db_path(tmp_path)


def test_repeat_rule_comes_from_the_rendered_script(project: Path) -> None:
    script = add_program(project, "a", extra="repeat: {days: [mon, thu], per_day: 1}\n")
    settings = load_settings(project / "radio.toml")
    catalogue, warnings = load_catalogue(settings.programs_dir, settings.root)
    [program] = catalogue.programs
    assert program.repeat.weekdays == {0, 3} and program.repeat.per_day == 1 and warnings == ()
    script.write_text(script.read_text(encoding="utf-8") + "\nA: Thêm.\n", encoding="utf-8")
    catalogue, warnings = load_catalogue(settings.programs_dir, settings.root)
    assert catalogue.programs[0].repeat.per_day == 0  # not the version on air: the default until rebuilt
    assert "changed since the render" in warnings[0]


def playlist(project: Path, station: str, day: str) -> dict[str, object]:
    data = json.loads((project / "build/playlists" / station / f"{day}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def aired(data: dict[str, object]) -> set[str]:
    return {i["program_id"] for s in data["sessions"] for i in s["items"]}  # type: ignore[attr-defined]


def test_cli_approve_schedule_withdraw(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("a", "b", "c"):
        add_program(project, name)
    monkeypatch.chdir(project)
    runner = CliRunner()
    done = runner.invoke(main, ["approve", "a", "b", "zzz", "--by", "Trần Thị B"])
    assert done.exit_code == 1 and "unknown program 'zzz'" in done.stderr
    assert "approved  a  by Trần Thị B" in done.stdout  # the known ones were still approved
    assert runner.invoke(main, ["withdraw", "c"]).exit_code == 0
    done = runner.invoke(main, ["approve", "--all", "--by", "B"])
    assert done.exit_code == 0 and "skipped  c  (withdrawn" in done.stdout
    done = runner.invoke(main, ["schedule", "--from", "today", "--days", "2"])
    assert done.exit_code == 0, done.output
    assert "withdrawn 6" in done.stdout  # c, per station (3) and day (2), counted by reason
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()
    before = playlist(project, "xa-c", today)
    assert aired(before) == {"a", "b"}
    done = runner.invoke(main, ["withdraw", "a", "--by", "Trần Thị B"])
    assert done.exit_code == 0 and "withdrawn  a  by Trần Thị B" in done.stdout
    after = playlist(project, "xa-c", today)
    assert aired(after) == {"b"} and after["revision"] == before["revision"] + 1  # type: ignore[operator]
    assert {"program_id": "a", "reason": "withdrawn"} in after["exceptions"]  # type: ignore[operator]
    assert runner.invoke(main, ["approve", "--by", "B"]).exit_code == 2  # neither ids nor --all
