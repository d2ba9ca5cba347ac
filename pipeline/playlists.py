"""Playlist files per station and day: JSON (the source of truth), M3U8. Written atomically; the JSON's
`revision` goes up only when the content changes, and an unchanged day is not rewritten at all."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.files import write_text_atomic
from pipeline.schedule import DayPlan

VOLATILE = ("revision", "generated_at")


def program_url(file: str) -> str:
    """Relative to the playlist file (build/playlists/<station>/<day>.json -> build/programs/<file>), so it
    works on disk and, resolved against the playlist's URL, over HTTP."""
    return f"../../programs/{file}"


def playlist_content(plan: DayPlan) -> dict[str, Any]:
    return {
        "station": plan.station,
        "date": plan.date.isoformat(),
        "timezone": plan.timezone,
        "sessions": [
            {
                "name": session.name,
                "start": session.start,
                "end": session.end,
                "items": [
                    {
                        "program_id": item.program_id,
                        "title": item.title,
                        "starts_at": item.starts_at.isoformat(),
                        "duration_s": item.duration_s,
                        "url": program_url(item.file),
                        "sha256": item.sha256,
                        "bytes": item.bytes,
                        "priority": item.priority,
                    }
                    for item in session.items
                ],
            }
            for session in plan.sessions
        ],
        "exceptions": [
            {"program_id": e.program_id, "reason": e.reason, **({"session": e.session} if e.session else {})}
            for e in plan.exceptions
        ],
    }


def m3u8(plan: DayPlan) -> str:
    lines = ["#EXTM3U", f"#PLAYLIST:{plan.station} {plan.date.isoformat()}"]
    for session in plan.sessions:
        lines.append(f"# session {session.name} {session.start}-{session.end}")
        for item in session.items:
            lines.append(f"#EXTINF:{round(item.duration_s)},{item.title}")
            lines.append(program_url(item.file))
    return "\n".join(lines) + "\n"


def _previous(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_playlist(plan: DayPlan, playlists_dir: Path, now: datetime) -> bool:
    """Write the day's files; return True when the content changed (or is new)."""
    folder = playlists_dir / plan.station
    json_path = folder / f"{plan.date.isoformat()}.json"
    content = playlist_content(plan)
    previous = _previous(json_path)
    old_content = {k: v for k, v in previous.items() if k not in VOLATILE} if previous else None
    m3u8_path = json_path.with_suffix(".m3u8")
    if old_content == content and m3u8_path.is_file():
        return False
    revision = int(previous.get("revision", 0)) + 1 if previous else 1
    document = {
        "station": content["station"],
        "date": content["date"],
        "timezone": content["timezone"],
        "revision": revision,
        "generated_at": now.isoformat(timespec="seconds"),
        "sessions": content["sessions"],
        "exceptions": content["exceptions"],
    }
    write_text_atomic(m3u8_path, m3u8(plan))
    write_text_atomic(json_path, json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    return True


def publish(plans: list[DayPlan], playlists_dir: Path, now: datetime) -> int:
    """Write every plan; return how many days changed."""
    return sum(write_playlist(plan, playlists_dir, now) for plan in plans)
