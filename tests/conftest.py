"""Shared fixtures: a tiny but complete project (1 s jingles made by the real ffmpeg, a short script)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

RADIO_TOML = """\
[paths]
scripts = "scripts"
templates = "audio_templates"
stations = "schedules/stations.yaml"
build = "build"

[speech]
engine = "espeak"
rate_wpm = 150

[presenters.female]
espeak = "vi+f3"

[presenters.male]
espeak = "vi"

[render]
jobs = 1
"""

STATIONS_YAML = """\
defaults:
  timezone: Asia/Ho_Chi_Minh
  sessions:
    - {name: sang, start: "05:30", end: "06:00"}
    - {name: chieu, start: "17:00", end: "17:30"}
provinces:
  - id: tinh-a
    name: Tỉnh A
    groups:
      - id: huyen-b
        name: Huyện B (cũ)
        stations:
          - {id: xa-c, name: Xã C}
          - id: xa-d
            name: Xã D
            sessions:
              - {name: sang, start: "06:00", end: "06:10", weekdays: [mon, tue, wed, thu, fri]}
    stations:
      - {id: xa-e, name: Xã E}
"""

TEMPLATE_YAML = """\
intro: intro.flac
outro: outro.flac
bed: bed.flac
bed_level_db: -18
intro_overlap_s: 0.3
outro_gap_s: 0.3
paragraph_gap_s: 0.4
section_gap_s: 0.8
loudness:
  integrated_lufs: -16
  true_peak_dbtp: -2
"""

SHORT_SCRIPT = """\
---
id: thong-bao-ngan
kind: notice
title: Thông báo ngắn về lịch tiếp dân
series: Giảm nghèo về thông tin
producer: Đài truyền thanh xã C
template: standard
voices: {A: female, B: male}
valid_from: 2025-01-01
valid_until: 2099-12-31
targets: [tinh-a]
priority: normal
---

## Lịch tiếp dân

A: Ngày 05/3/2025, UBND xã tiếp dân lúc 7h30.

## Vay vốn

B: Hộ nghèo được vay tối đa 100 triệu đồng.
"""


def sine(path: Path, seconds: float, freq: int) -> None:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
         f"sine=frequency={freq}:sample_rate=44100:duration={seconds}", "-ac", "2", "-af", "volume=-12dB",
         str(path)],
        check=True,
    )  # fmt: skip


@pytest.fixture(scope="session")
def jingles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("jingles")
    sine(folder / "intro.flac", 1.0, 660)
    sine(folder / "outro.flac", 1.0, 440)
    sine(folder / "bed.flac", 3.0, 220)
    return folder


@pytest.fixture
def project(tmp_path: Path, jingles: Path) -> Path:
    """A complete project folder; tests add or break files in it."""
    (tmp_path / "radio.toml").write_text(RADIO_TOML, encoding="utf-8")
    (tmp_path / "schedules").mkdir()
    (tmp_path / "schedules" / "stations.yaml").write_text(STATIONS_YAML, encoding="utf-8")
    template = tmp_path / "audio_templates" / "standard"
    template.mkdir(parents=True)
    (template / "template.yaml").write_text(TEMPLATE_YAML, encoding="utf-8")
    for name in ("intro.flac", "outro.flac", "bed.flac"):
        (template / name).write_bytes((jingles / name).read_bytes())
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "thong-bao-ngan.md").write_text(SHORT_SCRIPT, encoding="utf-8")
    return tmp_path
