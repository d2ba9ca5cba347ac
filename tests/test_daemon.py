"""`radio daemon` for real, in a subprocess with a short interval: its jobs publish playlists, render a new
script, pick up an approval, a second daemon refuses to start, and SIGTERM stops it cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipeline import editorial
from pipeline.config import load_settings
from pipeline.daemon import DaemonError, single_instance

REPO = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def daemon(project: Path, *args: str, log: Path | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "daemon", *args],
        cwd=project,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb") if log else subprocess.PIPE,
    )


def wait_for(check: Callable[[], bool], what: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if check():
            return
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen; daemon log:\n{log.read_text(errors='replace')}")


def today_playlist(project: Path) -> dict[str, object] | None:
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    path = project / "build" / "playlists" / "xa-c" / f"{today.isoformat()}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def has(reason: str, program_id: str) -> Callable[[Path], bool]:
    def check(project: Path) -> bool:
        data = today_playlist(project)
        return data is not None and {"program_id": program_id, "reason": reason} in data["exceptions"]  # type: ignore[operator]

    return check


def items(project: Path) -> list[str]:
    data = today_playlist(project) or {"sessions": []}
    return [i["program_id"] for s in data["sessions"] for i in s["items"]]  # type: ignore[attr-defined]


def test_daemon_runs_its_jobs_refuses_a_second_and_stops_on_sigterm(project: Path, tmp_path: Path) -> None:
    log = tmp_path / "daemon.log"
    first = daemon(project, "--interval-minutes", "0.02", "--days", "2", log=log)
    try:
        # nightly catch-up publishes at once; the interval job renders the new script and re-plans
        wait_for(lambda: has("not approved", "thong-bao-ngan")(project), "render + refresh", first, log)
        assert (project / "build" / "programs" / "thong-bao-ngan.mp3").is_file()
        second = daemon(project, "--interval-minutes", "0.02")
        _, err = second.communicate(timeout=60)
        assert second.returncode == 2
        assert f"another radio daemon is running (pid {first.pid})" in err.decode()
        # an approval made elsewhere reaches the playlists at the next interval, with no command run
        settings = load_settings(project / "radio.toml")
        manifest = json.loads((settings.programs_dir / "thong-bao-ngan.json").read_text(encoding="utf-8"))
        editorial.approve(
            settings.state_dir, {"thong-bao-ngan": manifest["script_sha256"]}, "test", datetime.now()
        )
        wait_for(lambda: "thong-bao-ngan" in items(project), "approval picked up", first, log)
        assert first.poll() is None
    finally:
        first.send_signal(signal.SIGTERM)
        code = first.wait(timeout=60)
    text = log.read_text(errors="replace")
    assert code == 0, text
    assert "SIGTERM received" in text and text.rstrip().endswith("stopped")
    assert "rendered thong-bao-ngan" in text and "refresh:" in text and "nightly:" in text
    days = sorted(p.name for p in (project / "build" / "playlists" / "xa-c").glob("*.json"))
    assert len(days) == 2
    with single_instance(settings):  # the lock went with the process
        pass


def test_lock_is_exclusive_in_one_process_too(project: Path) -> None:
    settings = load_settings(project / "radio.toml")
    with single_instance(settings):
        second = single_instance(settings)
        with pytest.raises(DaemonError, match="another radio daemon is running"):
            second.__enter__()


def test_bad_nightly_time_is_a_usage_error(project: Path) -> None:
    done = daemon(project, "--nightly-at", "25:00")
    _, err = done.communicate(timeout=60)
    assert done.returncode == 2 and "--nightly-at" in err.decode()
    assert not (project / "build" / "playlists").exists()
