"""The CLI surface: help for every command, preview's line contract, project-root discovery, lint."""

from __future__ import annotations

import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from pipeline.cli import main


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for name, command in main.commands.items():
        assert command.help, name
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output


def test_preview_text_file_one_line_per_input_line(tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text("Ngày 20/10/2023 họp.\n\nCó 12 hộ.\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["preview", "--text-file", str(source)])
    assert result.exit_code == 0
    lines = result.stdout.split("\n")
    assert lines[-1] == "" and len(lines) == 4
    assert "hai mươi tháng mười" in lines[0] and lines[1] == "" and "mười hai" in lines[2]
    assert not any(ch.isdigit() for ch in result.stdout)


def test_project_root_is_found_upward_from_cwd(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.config import load_settings

    inner = project / "scripts"
    monkeypatch.chdir(inner)
    settings = load_settings()
    assert settings.root == project.resolve()
    assert settings.build_dir == project.resolve() / "build"


def test_no_project_is_a_configuration_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["schedule"])
    assert result.exit_code == 2
    assert "no radio.toml" in result.stderr


def test_lint_reports_file_line_level(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = project / "scripts" / "thong-bao-ngan.md"
    script.write_text(
        script.read_text(encoding="utf-8").replace("targets: [tinh-a]", "targets: [tinh-x]"), encoding="utf-8"
    )
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["lint"])
    assert result.exit_code == 1
    assert (
        "scripts/thong-bao-ngan.md:11: error: field 'targets': unknown station, grouping or province 'tinh-x'"
        in result.output
    )


def test_cli_module_imports_no_heavy_stacks() -> None:
    import subprocess
    import sys

    code = (
        "import sys, pipeline.cli; heavy = [m for m in ('aiohttp', 'docx', 'matplotlib', 'apscheduler', "
        "'mutagen', 'pipeline.render') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
    ).stdout
    assert out.strip() == "[]"
    assert isinstance(main, click.Group)
