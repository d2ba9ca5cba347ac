"""radio serve over real loopback HTTP: tokens, station isolation, traversal, ETag, Range, limits, logs.

The helpers here (a tiny published project, a server on a random port) are shared by the other
distribution tests (test_station_agent, test_playout, test_plays, test_reports, test_feeds).
"""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import json
import os
import subprocess
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.serve import ServerPaths, parse_range, start_server
from pipeline.tokens import issue_tokens, load_tokens, revoke_token

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2026, 3, 2)  # a Monday: every test station has its sessions
DAWN = datetime(2026, 3, 2, 4, 0, tzinfo=ZONE)  # the server's clock in these tests: before the first session


def at_dawn() -> datetime:
    return DAWN


def mp3(path: Path, seconds: float, freq: int) -> bytes:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
         f"sine=frequency={freq}:sample_rate=22050:duration={seconds}", "-ac", "1", "-b:a", "32k", str(path)],
        check=True,
    )  # fmt: skip
    return path.read_bytes()


@pytest.fixture(scope="session")
def tones(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Short real MP3s: half-second items and a 4 s one (long enough to be cut into)."""
    folder = tmp_path_factory.mktemp("tones")
    return {
        "a": mp3(folder / "a.mp3", 0.5, 440),
        "b": mp3(folder / "b.mp3", 0.5, 660),
        "c": mp3(folder / "c.mp3", 0.5, 880),
        "long": mp3(folder / "long.mp3", 4.0, 330),
    }


@dataclass(frozen=True)
class Program:
    id: str
    file: str
    sha256: str
    bytes: int
    duration_s: float
    title: str


@dataclass
class World:
    """A project with rendered programs and published playlists, as radio build and schedule leave them."""

    root: Path
    programs: dict[str, Program] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def build(self) -> Path:
        return self.root / "build"

    @property
    def paths(self) -> ServerPaths:
        return ServerPaths(
            playlists_dir=self.build / "playlists",
            programs_dir=self.build / "programs",
            feeds_dir=self.build / "feeds",
            stations_file=self.root / "schedules" / "stations.yaml",
            tokens=self.root / "state" / "station-tokens.json",
            plays_db=self.root / "state" / "plays.sqlite",
        )

    def add_program(
        self, program_id: str, audio: bytes, *, seconds: float = 0.5, series: str = "Giảm nghèo về thông tin"
    ) -> Program:
        folder = self.build / "programs"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{program_id}.mp3").write_bytes(audio)
        sha = hashlib.sha256(audio).hexdigest()
        title = f"Bản tin {program_id}"
        program = Program(program_id, f"{program_id}.mp3", sha, len(audio), seconds, title)
        (folder / f"{program_id}.vtt").write_text(
            f"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n{title}\n", encoding="utf-8"
        )
        manifest = {
            "id": program_id, "kind": "notice", "title": title, "series": series,
            "producer": "Đài truyền thanh xã C", "language": "vi", "file": program.file,
            "duration_s": seconds, "bytes": len(audio), "sha256": sha,
            "renditions": {"loudspeaker": {"file": program.file, "bytes": len(audio), "sha256": sha}},
            "transcript": f"{program_id}.vtt", "targets": ["tinh-a"], "valid_from": "2026-03-01",
            "valid_until": "2099-12-31", "priority": "normal", "script_sha256": "ab" * 32,
            "rendered_at": "2026-03-01T08:00:00+07:00",
        }  # fmt: skip
        (folder / f"{program_id}.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
        self.programs[program_id] = program
        return program

    def publish(
        self,
        station: str,
        day: date,
        sessions: Sequence[tuple[str, str, str, Sequence[str]]],
        *,
        revision: int = 1,
        emergency: Sequence[str] = (),
        gap_s: float = 2.0,
    ) -> dict[str, Any]:
        """Write build/playlists/<station>/<day>.json per docs/formats.md; items back to back with a gap."""
        out_sessions = []
        for name, start, end, ids in sessions:
            hour, minute = (int(x) for x in start.split(":"))
            at = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)
            items = []
            for pid in ids:
                p = self.programs[pid]
                items.append(
                    {"program_id": pid, "title": p.title, "starts_at": at.isoformat(),
                     "duration_s": p.duration_s, "url": f"../../programs/{p.file}", "sha256": p.sha256,
                     "bytes": p.bytes,
                     "priority": "emergency" if pid in emergency else "normal",
                     **({"emergency": True} if pid in emergency else {})}
                )  # fmt: skip
                at += timedelta(seconds=p.duration_s + gap_s)
            out_sessions.append({"name": name, "start": start, "end": end, "items": items})
        data = {
            "station": station, "date": day.isoformat(), "timezone": "Asia/Ho_Chi_Minh", "revision": revision,
            "generated_at": "2026-03-01T01:00:00+07:00", "emergency": bool(emergency),
            "sessions": out_sessions, "exceptions": [],
        }  # fmt: skip
        path = self.build / "playlists" / station / f"{day.isoformat()}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, path)
        (path.with_suffix(".m3u8")).write_text("#EXTM3U\n", encoding="utf-8")
        return data

    def token(self, station: str) -> str:
        """The station's token, issued on first use."""
        if station not in self.tokens:
            now = datetime.now().astimezone()
            self.tokens[station] = issue_tokens(self.paths.tokens, [station], now, rotate=False)[station]
        return self.tokens[station]

    def token_file(self, station: str) -> Path:
        path = self.root / f"{station}.token"
        path.write_text(self.token(station) + "\n", encoding="utf-8")
        return path


@pytest.fixture
def world(project: Path, tones: dict[str, bytes]) -> World:
    w = World(project)
    w.add_program("tin-a", tones["a"])
    w.add_program("tin-b", tones["b"])
    w.publish("xa-c", DAY, [("sang", "05:30", "06:00", ["tin-a", "tin-b"])])
    w.publish("xa-e", DAY, [("sang", "05:30", "06:00", ["tin-b"])])
    return w


@contextmanager
def running(
    paths: ServerPaths,
    *,
    access_log: str = "",
    max_body_kb: int = 256,
    clock: Callable[[], datetime] | None = at_dawn,
) -> Iterator[str]:
    """The real aiohttp server on 127.0.0.1 and a free port, in a thread with its own event loop; its clock
    reads DAWN on DAY unless told otherwise (None: the real clock)."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, Any] = {}

    def serve() -> None:
        asyncio.set_event_loop(loop)
        try:
            box["runner"], box["port"] = loop.run_until_complete(
                start_server(
                    paths, "127.0.0.1", 0, access_log=access_log, max_body_kb=max_body_kb, clock=clock
                )
            )
        finally:
            ready.set()
        loop.run_forever()
        loop.run_until_complete(box["runner"].cleanup())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10) and "port" in box, "server did not start"
    try:
        yield f"http://127.0.0.1:{box['port']}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def request(
    base: str,
    path: str,
    *,
    token: str | None = None,
    method: str = "GET",
    body: bytes | None = None,
    **headers: str,
) -> Reply:
    """Raw HTTP/1.1 (http.client sends the path exactly as given: encoded dots and backslashes included)."""
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=10)
    sent = {k.replace("_", "-"): v for k, v in headers.items()}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    if body is not None:
        sent.setdefault("Content-Type", "application/json")
    try:
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        conn.close()


# --- tests -------------------------------------------------------------------------------------------------

PLAYLIST = f"/v1/playlists/xa-c/{DAY.isoformat()}.json"


def test_missing_or_wrong_token_is_401(world: World) -> None:
    world.token("xa-c")
    with running(world.paths) as base:
        for path in (PLAYLIST, "/v1/playlists/xa-c/", "/v1/programs/tin-a.mp3"):
            missing = request(base, path)
            assert missing.status == 401 and missing.headers["www-authenticate"].startswith("Bearer")
            assert request(base, path, token="not-a-token").status == 401
            assert request(base, path, Authorization="Basic eGEtYzpzZWNyZXQ=").status == 401
        posted = request(base, "/v1/stations/xa-c/plays", token="wrong", method="POST", body=b'{"plays": []}')
        assert posted.status == 401


def test_a_station_sees_only_its_own_playlists(world: World) -> None:
    mine, theirs = world.token("xa-c"), world.token("xa-e")
    with running(world.paths) as base:
        own = request(base, PLAYLIST, token=mine)
        assert own.status == 200 and json.loads(own.body)["station"] == "xa-c"
        assert request(base, PLAYLIST, token=theirs).status == 403
        assert request(base, "/v1/playlists/xa-c/", token=theirs).status == 403
        index = json.loads(request(base, "/v1/playlists/xa-e/", token=theirs).body)
        assert index["station"] == "xa-e" and index["timezone"] == "Asia/Ho_Chi_Minh"
        assert (
            request(base, "/v1/stations/xa-c/status", token=theirs, method="POST", body=b"{}").status == 403
        )


def test_rotate_and_revoke_take_effect_without_restart(world: World) -> None:
    old = world.token("xa-c")
    with running(world.paths) as base:
        assert request(base, PLAYLIST, token=old).status == 200
        new = issue_tokens(world.paths.tokens, ["xa-c"], datetime.now().astimezone(), rotate=True)["xa-c"]
        assert request(base, PLAYLIST, token=old).status == 401
        assert request(base, PLAYLIST, token=new).status == 200
        assert revoke_token(world.paths.tokens, "xa-c")
        assert request(base, PLAYLIST, token=new).status == 401


def test_token_store_keeps_only_digests(world: World) -> None:
    secret = world.token("xa-c")
    text = world.paths.tokens.read_text(encoding="utf-8")
    assert secret not in text and hashlib.sha256(secret.encode()).hexdigest() in text
    assert len(secret) >= 43  # 32 random bytes, url-safe base64
    assert world.paths.tokens.stat().st_mode & 0o077 == 0
    assert set(load_tokens(world.paths.tokens)) == {"xa-c"}


def test_token_cli_issue_rotate_revoke(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(world.root)
    runner = CliRunner()
    issued = runner.invoke(main, ["token", "issue", "xa-c", "--out-dir", "tokens"])
    assert issued.exit_code == 0, issued.output
    token_file = world.root / "tokens" / "xa-c.token"
    assert token_file.stat().st_mode & 0o777 == 0o600
    assert runner.invoke(main, ["token", "issue", "xa-c"]).exit_code == 1  # already has one: rotate instead
    unknown = runner.invoke(main, ["token", "issue", "xa-zz"])
    assert unknown.exit_code == 1 and "unknown station 'xa-zz'" in unknown.stderr
    rotated = runner.invoke(main, ["token", "rotate", "xa-c"])
    assert rotated.exit_code == 0 and rotated.stdout.startswith("xa-c ")
    with running(world.paths) as base:
        assert request(base, PLAYLIST, token=token_file.read_text().strip()).status == 401
        assert request(base, PLAYLIST, token=rotated.stdout.split()[1]).status == 200
    assert runner.invoke(main, ["token", "revoke", "xa-c"]).exit_code == 0
    assert runner.invoke(main, ["token", "revoke", "xa-c"]).exit_code == 1


TRAVERSALS = [
    "/v1/playlists/xa-c/..%2F..%2F..%2Fradio.toml",
    "/v1/playlists/xa-c/%2e%2e/%2e%2e/%2e%2e/radio.toml",
    "/v1/playlists/xa-c/..%5c..%5c..%5cradio.toml",
    "/v1/playlists/..%2Fxa-c/2026-03-02.json",
    "/v1/playlists/xa-c/../../../radio.toml",
    "/v1/programs/..%2F..%2Fradio.toml",
    "/v1/programs/%2e%2e%2f%2e%2e%2fradio.toml",
    "/v1/programs/..%5c..%5cradio.toml",
    "/v1/programs/%2e%2e",
    "/v1/programs/.tin-a.mp3",
    "/v1/programs/tin-a.json",
    "/v1/programs/..mp3",
    "/media/..%2F..%2Fradio.toml",
    "/feeds/..%2F..%2Fradio.toml",
    "/v1/programs/%252e%252e%252fradio.toml",
    "/v1/programs/tin-a.mp3%00.json",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_traversal_attempts_are_rejected(world: World, path: str) -> None:
    token = world.token("xa-c")
    secret = (world.root / "radio.toml").read_bytes()
    with running(world.paths) as base:
        reply = request(base, path, token=token)
    assert 400 <= reply.status < 500
    assert secret[:40] not in reply.body and b"[paths]" not in reply.body


def test_etag_round_trip_and_change(world: World) -> None:
    token = world.token("xa-c")
    with running(world.paths) as base:
        first = request(base, PLAYLIST, token=token)
        etag = first.headers["etag"]
        assert first.status == 200 and etag == f'"{hashlib.sha256(first.body).hexdigest()}"'
        assert first.headers["x-content-sha256"] == hashlib.sha256(first.body).hexdigest()
        again = request(base, PLAYLIST, token=token, If_None_Match=etag)
        assert again.status == 304 and again.body == b"" and again.headers["etag"] == etag
        index = request(base, "/v1/playlists/xa-c/", token=token)
        assert (
            request(base, "/v1/playlists/xa-c/", token=token, If_None_Match=index.headers["etag"]).status
            == 304
        )
        world.publish("xa-c", DAY, [("sang", "05:30", "06:00", ["tin-b"])], revision=2)
        changed = request(base, PLAYLIST, token=token, If_None_Match=etag)
        assert changed.status == 200 and changed.headers["etag"] != etag
        assert json.loads(changed.body)["revision"] == 2
        assert (
            request(base, "/v1/playlists/xa-c/", token=token, If_None_Match=index.headers["etag"]).status
            == 200
        )
        audio = request(base, "/v1/programs/tin-b.mp3", token=token)  # revision 2 names tin-b only
        assert audio.headers["etag"] == f'"{world.programs["tin-b"].sha256}"'
        assert (
            request(base, "/v1/programs/tin-b.mp3", token=token, If_None_Match=audio.headers["etag"]).status
            == 304
        )


def test_range_requests(world: World) -> None:
    token = world.token("xa-c")
    data = (world.build / "programs" / "tin-a.mp3").read_bytes()
    size = len(data)
    with running(world.paths) as base:
        whole = request(base, "/v1/programs/tin-a.mp3", token=token)
        assert whole.status == 200 and whole.body == data
        assert whole.headers["content-length"] == str(size) and whole.headers["accept-ranges"] == "bytes"
        assert whole.headers["x-content-sha256"] == hashlib.sha256(data).hexdigest()
        assert whole.headers["repr-digest"].startswith("sha-256=:")
        part = request(base, "/v1/programs/tin-a.mp3", token=token, Range="bytes=0-99")
        assert part.status == 206 and part.body == data[:100]
        assert part.headers["content-range"] == f"bytes 0-99/{size}"
        tail = request(base, "/v1/programs/tin-a.mp3", token=token, Range="bytes=100-")
        assert tail.status == 206 and tail.body == data[100:]
        suffix = request(base, "/v1/programs/tin-a.mp3", token=token, Range="bytes=-50")
        assert suffix.status == 206 and suffix.body == data[-50:]
        beyond = request(base, "/v1/programs/tin-a.mp3", token=token, Range=f"bytes={size}-")
        assert beyond.status == 416 and beyond.headers["content-range"] == f"bytes */{size}"
        other_version = request(
            base, "/v1/programs/tin-a.mp3", token=token, Range="bytes=100-", If_Range='"x"'
        )
        assert other_version.status == 200 and other_version.body == data
        same_version = request(
            base, "/v1/programs/tin-a.mp3", token=token, Range="bytes=100-", If_Range=whole.headers["etag"]
        )
        assert same_version.status == 206 and same_version.body == data[100:]
        head = request(base, "/v1/programs/tin-a.mp3", token=token, method="HEAD")
        assert head.status == 200 and head.body == b"" and head.headers["content-length"] == str(size)


def test_parse_range_rules() -> None:
    assert parse_range(None, 10) is None
    assert parse_range("bytes=2-4", 10) == (2, 4)
    assert parse_range("bytes=8-100", 10) == (8, 9)
    assert parse_range("bytes=-3", 10) == (7, 9)
    assert parse_range("bytes=0-1,4-5", 10) is None  # several ranges: the whole file
    assert parse_range("items=0-1", 10) is None
    assert parse_range("bytes=5-2", 10) is None
    assert parse_range("bytes=abc", 10) is None


def test_oversized_requests_are_refused(world: World) -> None:
    token = world.token("xa-c")
    with running(world.paths, max_body_kb=4) as base:
        big = json.dumps({"plays": [{"program_id": "x" * 100}] * 100}).encode()
        assert len(big) > 4096
        assert request(base, "/v1/stations/xa-c/plays", token=token, method="POST", body=big).status == 413
        assert request(base, "/v1/programs/" + "a" * 5000 + ".mp3", token=token).status in (400, 414)
        assert request(base, PLAYLIST, token=token, X_Filler="y" * 9000).status in (400, 431)
        assert (
            request(base, "/v1/stations/xa-c/plays", token=token, method="POST", body=b"not json").status
            == 400
        )


def test_access_log_names_requests_but_never_tokens(world: World, tmp_path: Path) -> None:
    token = world.token("xa-c")
    log = tmp_path / "access.log"
    with running(world.paths, access_log=str(log)) as base:
        request(base, PLAYLIST, token=token)
        request(base, "/v1/programs/tin-a.mp3", token="wrong")
    text = log.read_text(encoding="utf-8")
    assert f'GET {PLAYLIST} HTTP/1.1" 200' in text
    assert 'GET /v1/programs/tin-a.mp3 HTTP/1.1" 401' in text
    assert token not in text


def test_serve_settings_from_radio_toml(project: Path) -> None:
    from pipeline.config import load_settings

    config = project / "radio.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[serve]\nport = 9001\ntokens = "centre/t.json"\n',
        encoding="utf-8",
    )
    settings = load_settings(config)
    assert settings.serve.port == 9001
    assert settings.serve.tokens == project.resolve() / "centre" / "t.json"
    assert settings.serve.plays_db == project.resolve() / "state" / "plays.sqlite"
    config.write_text(
        config.read_text(encoding="utf-8").replace("port = 9001", 'port = "x"'), encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["--config", str(config), "stations", "status"])
    assert result.exit_code == 2 and "serve.port" in result.stderr


def test_serve_stops_before_listening_on_a_damaged_token_store(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.paths.tokens.parent.mkdir(parents=True, exist_ok=True)
    world.paths.tokens.write_text('{"stations": {"xa-c": {"sha256": "short"}}}', encoding="utf-8")
    monkeypatch.chdir(world.root)
    result = CliRunner().invoke(main, ["serve", "--port", "0"])
    assert result.exit_code == 2
    assert "station-tokens.json: field 'stations.xa-c.sha256'" in result.stderr


def test_a_station_fetches_only_the_audio_its_own_playlists_name(
    world: World, tones: dict[str, bytes]
) -> None:
    """xa-e's playlist names tin-b only: tin-a (xa-c's) is 404 for it, exactly like a file that does not
    exist, while xa-c gets both."""
    world.add_program("rieng", tones["c"])  # on disk, named by no playlist at all
    mine, theirs = world.token("xa-c"), world.token("xa-e")
    with running(world.paths) as base:
        own = request(base, "/v1/programs/tin-b.mp3", token=theirs)
        assert own.status == 200 and own.body == (world.build / "programs" / "tin-b.mp3").read_bytes()
        other = request(base, "/v1/programs/tin-a.mp3", token=theirs)
        absent = request(base, "/v1/programs/khong-co.mp3", token=theirs)
        assert other.status == absent.status == 404 and other.body == absent.body
        assert "etag" not in other.headers and "x-content-sha256" not in other.headers
        assert request(base, "/v1/programs/tin-a.mp3", token=theirs, method="HEAD").status == 404
        assert request(base, "/v1/programs/tin-a.mp3", token=mine).status == 200
        assert request(base, "/v1/programs/rieng.mp3", token=mine).status == 404
        # a newly published day opens its files at once (the index follows the playlists folder)
        world.publish("xa-e", DAY + timedelta(days=1), [("sang", "05:30", "06:00", ["tin-a"])])
        assert request(base, "/v1/programs/tin-a.mp3", token=theirs).status == 200


def test_a_withdrawn_program_closes_after_the_grace_window(world: World) -> None:
    """tin-a aired on DAY - 3 and was scheduled on DAY; re-scheduling DAY without it (withdrawn) leaves it
    open only while DAY - 3 is within the 7-day grace window."""
    world.publish("xa-c", DAY - timedelta(days=3), [("sang", "05:30", "06:00", ["tin-a"])])
    token = world.token("xa-c")
    clock = [DAWN]
    with running(world.paths, clock=lambda: clock[0]) as base:
        assert request(base, "/v1/programs/tin-a.mp3", token=token).status == 200
        world.publish("xa-c", DAY, [("sang", "05:30", "06:00", ["tin-b"])], revision=2)
        assert request(base, "/v1/programs/tin-a.mp3", token=token).status == 200  # DAY - 3 still names it
        clock[0] = DAWN + timedelta(days=4)  # DAY - 3 is today - 7: the last day of grace
        assert request(base, "/v1/programs/tin-a.mp3", token=token).status == 200
        clock[0] = DAWN + timedelta(days=5)
        assert request(base, "/v1/programs/tin-a.mp3", token=token).status == 404
        assert request(base, "/v1/programs/tin-b.mp3", token=token).status == 200  # DAY still names it
        world.publish("xa-c", DAY + timedelta(days=6), [("sang", "05:30", "06:00", ["tin-a"])])
        assert request(base, "/v1/programs/tin-a.mp3", token=token).status == 200  # scheduled again
