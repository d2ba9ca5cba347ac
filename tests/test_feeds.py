"""radio feed: podcast RSS 2.0 per series that parses and carries the required elements; served publicly."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.editorial import approve
from pipeline.feeds import PODCAST_NS, slug
from tests.test_serve import World, request, running

pytest_plugins = ("tests.test_serve",)  # its fixtures: world, tones

BASE = "https://radio.example.vn"
FEED = "giam-ngheo-ve-thong-tin.xml"


def approve_all(world: World, *ids: str) -> None:
    approve(world.root / "state", {i: "ab" * 32 for i in ids}, "Biên tập viên", datetime.now().astimezone())


def make_feeds(world: World, monkeypatch: pytest.MonkeyPatch, *extra: str) -> ET.Element:
    monkeypatch.chdir(world.root)
    result = CliRunner().invoke(main, ["feed", "--base-url", BASE, *extra])
    assert result.exit_code == 0, result.output
    return ET.parse(world.build / "feeds" / FEED).getroot()


def test_feed_is_rss_2_with_required_elements(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    approve_all(world, "tin-a", "tin-b")
    rss = make_feeds(world, monkeypatch)
    assert rss.tag == "rss" and rss.get("version") == "2.0"
    channel = rss.find("channel")
    assert channel is not None
    for name in ("title", "link", "description"):  # RSS 2.0's required channel elements
        assert (channel.findtext(name) or "").strip(), name
    assert channel.findtext("title") == "Giảm nghèo về thông tin"
    assert channel.findtext("language") == "vi"
    parsedate_to_datetime(channel.findtext("lastBuildDate") or "")
    items = channel.findall("item")
    assert {i.findtext("title") for i in items} == {"Bản tin tin-a", "Bản tin tin-b"}
    for item in items:
        program = item.findtext("title", "").removeprefix("Bản tin ")
        enclosure = item.find("enclosure")
        assert enclosure is not None
        assert enclosure.get("url") == f"{BASE}/media/{program}.mp3"
        assert enclosure.get("length") == str((world.paths.programs_dir / f"{program}.mp3").stat().st_size)
        assert enclosure.get("type") == "audio/mpeg"
        guid = item.find("guid")
        assert guid is not None and guid.get("isPermaLink") == "false" and program in (guid.text or "")
        parsedate_to_datetime(item.findtext("pubDate") or "")
        transcript = item.find(f"{{{PODCAST_NS}}}transcript")
        assert transcript is not None
        assert transcript.get("url") == f"{BASE}/media/{program}.vtt" and transcript.get("type") == "text/vtt"


def test_only_approved_programs_are_published(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    approve_all(world, "tin-a")
    rss = make_feeds(world, monkeypatch)
    assert [i.findtext("title") for i in rss.iter("item")] == ["Bản tin tin-a"]
    everything = make_feeds(world, monkeypatch, "--include-unapproved")
    assert len(list(everything.iter("item"))) == 2


def test_guid_is_stable_when_a_program_is_re_rendered(
    world: World, monkeypatch: pytest.MonkeyPatch, tones: dict[str, bytes]
) -> None:
    approve_all(world, "tin-a")
    before = make_feeds(world, monkeypatch).find("channel/item")
    world.add_program("tin-a", tones["c"] + b"\x00" * 100)  # new audio, same program
    after = make_feeds(world, monkeypatch).find("channel/item")
    assert before is not None and after is not None
    assert before.findtext("guid") == after.findtext("guid")
    old, new = before.find("enclosure"), after.find("enclosure")
    assert old is not None and new is not None and old.get("length") != new.get("length")


def test_one_feed_per_series_and_the_web_rendition_is_enclosed(
    world: World, monkeypatch: pytest.MonkeyPatch, tones: dict[str, bytes]
) -> None:
    world.add_program("nong-thon", tones["c"], series="Nông thôn mới")
    manifest_path = world.paths.programs_dir / "nong-thon.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    web = tones["a"] + tones["b"]
    (world.paths.programs_dir / "nong-thon.web.mp3").write_bytes(web)
    manifest["renditions"]["web"] = {
        "file": "nong-thon.web.mp3",
        "bytes": len(web),
        "sha256": hashlib.sha256(web).hexdigest(),
    }
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    approve_all(world, "tin-a", "nong-thon")
    make_feeds(world, monkeypatch)
    assert sorted(p.name for p in (world.build / "feeds").glob("*.xml")) == [FEED, "nong-thon-moi.xml"]
    other = ET.parse(world.build / "feeds" / "nong-thon-moi.xml").getroot()
    enclosure = other.find("channel/item/enclosure")
    assert enclosure is not None
    assert enclosure.get("url") == f"{BASE}/media/nong-thon.web.mp3" and enclosure.get("length") == str(
        len(web)
    )


def test_server_publishes_feeds_and_only_the_files_they_enclose(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    approve_all(world, "tin-a")
    make_feeds(world, monkeypatch)
    with running(world.paths) as base:
        feed = request(base, f"/feeds/{FEED}")  # public: no token
        assert feed.status == 200 and feed.headers["content-type"].startswith("application/rss+xml")
        assert request(base, f"/feeds/{FEED}", If_None_Match=feed.headers["etag"]).status == 304
        audio = request(base, "/media/tin-a.mp3")
        assert audio.status == 200 and audio.body == (world.paths.programs_dir / "tin-a.mp3").read_bytes()
        assert request(base, "/media/tin-a.vtt").status == 200
        assert request(base, "/media/tin-a.mp3", Range="bytes=0-9").status == 206
        assert request(base, "/media/tin-b.mp3").status == 404  # not approved, not in any feed
        assert request(base, "/feeds/nothing.xml").status == 404


def test_series_slug() -> None:
    assert slug("Giảm nghèo về thông tin") == "giam-ngheo-ve-thong-tin"
    assert slug("Đường đến ấm no") == "duong-den-am-no"
    assert slug("!!!") == "series"


def test_feed_needs_a_base_url(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(world.root)
    assert CliRunner().invoke(main, ["feed"]).exit_code == 2
    bad = CliRunner().invoke(main, ["feed", "--base-url", "ftp://x"])
    assert bad.exit_code == 2 and "--base-url" in bad.stderr
    assert not Path(world.build / "feeds").exists()
