"""`radio feed`: one podcast RSS 2.0 feed per series, so portals can publish the programs.

Each approved program (pipeline/editorial.py) becomes an item: its web rendition (else the primary file) as
the enclosure with its exact length and type, a guid that never changes for the program (re-rendering it
does not make a new episode), and its WebVTT transcript through the Podcasting 2.0 namespace
(`podcast:transcript`). Enclosures point at `<base-url>/media/<file>`, which `radio serve` answers for the
files the published feeds name and nothing else.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

from pipeline.errors import PipelineError
from pipeline.files import write_text_atomic

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
ATOM_NS = "http://www.w3.org/2005/Atom"
PODCAST_GUID_NS = uuid.UUID(
    "ead4c236-bf58-58c6-a2c6-a6b28d128cb6"
)  # Podcasting 2.0's namespace for podcast:guid


class FeedError(PipelineError):
    exit_code = 2


@dataclass(frozen=True)
class Episode:
    program_id: str
    title: str
    series: str
    producer: str
    file: str
    bytes: int
    duration_s: float
    transcript: str | None
    published: datetime


def slug(text: str) -> str:
    """ASCII file name for a series: "Giảm nghèo về thông tin" -> "giam-ngheo-ve-thong-tin"."""
    folded = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = folded.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-") or "series"


def episode_of(data: Mapping[str, Any], programs_dir: Path, zone: ZoneInfo) -> Episode:
    web = (data.get("renditions") or {}).get("web")
    chosen = web if isinstance(web, dict) and (programs_dir / str(web.get("file"))).is_file() else data
    transcript = data.get("transcript")
    valid_from = data.get("valid_from")
    published = (
        datetime.combine(date.fromisoformat(str(valid_from)), time(0), zone)
        if valid_from
        else datetime.fromisoformat(str(data["rendered_at"]))
    )
    return Episode(
        program_id=str(data["id"]),
        title=str(data["title"]),
        series=str(data.get("series") or "Chương trình phát thanh"),
        producer=str(data.get("producer", "")),
        file=str(chosen["file"]),
        bytes=int(chosen["bytes"]),
        duration_s=float(data.get("duration_s", 0)),
        transcript=str(transcript) if transcript and (programs_dir / str(transcript)).is_file() else None,
        published=published,
    )


def load_episodes(
    programs_dir: Path, approved: Mapping[str, str] | None, zone: ZoneInfo
) -> tuple[dict[str, list[Episode]], list[str]]:
    """Episodes by series. `approved` maps program id -> approved script sha256; None takes every program."""
    series: dict[str, list[Episode]] = defaultdict(list)
    warnings: list[str] = []
    for manifest in sorted(programs_dir.glob("*.json")) if programs_dir.is_dir() else []:
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            if approved is not None and approved.get(str(data.get("id"))) != data.get("script_sha256"):
                continue
            episode = episode_of(data, programs_dir, zone)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            warnings.append(f"{manifest}: warning: unreadable manifest skipped ({exc})")
            continue
        series[episode.series].append(episode)
    return dict(series), warnings


def rss(series: str, episodes: Iterable[Episode], base_url: str) -> str:
    """The RSS 2.0 document of one series, newest first."""
    base = base_url.rstrip("/")
    feed_url = f"{base}/feeds/{slug(series)}.xml"
    ordered = sorted(episodes, key=lambda e: (e.published, e.program_id), reverse=True)
    built = max((e.published for e in ordered), default=datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC")))
    feed_guid = uuid.uuid5(PODCAST_GUID_NS, feed_url.split("://", 1)[-1])
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<rss version="2.0" xmlns:podcast="{PODCAST_NS}" xmlns:itunes="{ITUNES_NS}" xmlns:atom="{ATOM_NS}">',
        "<channel>",
        f"  <title>{escape(series)}</title>",
        f"  <link>{escape(base)}/</link>",
        f"  <description>{escape(series)}: chương trình phát thanh cơ sở</description>",
        "  <language>vi</language>",
        f"  <lastBuildDate>{format_datetime(built)}</lastBuildDate>",
        "  <generator>commune-radio</generator>",
        f'  <atom:link href={quoteattr(feed_url)} rel="self" type="application/rss+xml"/>',
        f"  <podcast:guid>{feed_guid}</podcast:guid>",
        "  <podcast:locked>no</podcast:locked>",
        "  <itunes:explicit>false</itunes:explicit>",
    ]
    for e in ordered:
        media = f"{base}/media/{quote(e.file)}"
        about = e.title + (f" — {e.producer}" if e.producer else "")
        out += [
            "  <item>",
            f"    <title>{escape(e.title)}</title>",
            f"    <description>{escape(about)}</description>",
            f'    <guid isPermaLink="false">urn:commune-radio:program:{escape(e.program_id)}</guid>',
            f"    <pubDate>{format_datetime(e.published)}</pubDate>",
            f'    <enclosure url={quoteattr(media)} length="{e.bytes}" type="audio/mpeg"/>',
            f"    <itunes:duration>{round(e.duration_s)}</itunes:duration>",
        ]
        if e.producer:
            out.append(f"    <itunes:author>{escape(e.producer)}</itunes:author>")
        if e.transcript:
            transcript = quoteattr(f"{base}/media/{quote(e.transcript)}")
            out.append(f'    <podcast:transcript url={transcript} type="text/vtt" language="vi"/>')
        out.append("  </item>")
    out += ["</channel>", "</rss>"]
    return "\n".join(out) + "\n"


def write_feeds(
    programs_dir: Path, out_dir: Path, base_url: str, approved: Mapping[str, str] | None, zone: ZoneInfo
) -> tuple[list[Path], list[str]]:
    """Write `<slug>.xml` per series and remove feeds of series that no longer have an episode."""
    if not re.match(r"^https?://[^\s/]+", base_url):
        raise FeedError(f"{base_url!r} is not an http(s) URL", field="--base-url")
    by_series, warnings = load_episodes(programs_dir, approved, zone)
    written: list[Path] = []
    for series, episodes in sorted(by_series.items()):
        path = out_dir / f"{slug(series)}.xml"
        write_text_atomic(path, rss(series, episodes, base_url))
        written.append(path)
    for stale in sorted(out_dir.glob("*.xml")) if out_dir.is_dir() else []:
        if stale not in written:
            stale.unlink()
    return written, warnings
