"""`radio serve`: the distribution server stations pull from (the API is docs/station-api.md).

Routes mirror the build folder, so a playlist's relative item URL (`../../programs/<file>`) resolves to the
audio route both on disk and over HTTP:

    GET  /v1/playlists/<station>/                 the station's current days (index, ETag)
    GET  /v1/playlists/<station>/<YYYY-MM-DD>.json|.m3u8|.xspf
    GET  /v1/programs/<file>                      audio: Range, ETag = sha256, digest headers
    POST /v1/stations/<station>/plays             proof of play (idempotent)
    POST /v1/stations/<station>/status            agent version, armed days, last error
    GET  /feeds/<series>.xml, /media/<file>       public podcast feeds and the files they enclose
    GET  /healthz

Every station route needs `Authorization: Bearer <token>`; a token opens its own station's routes only,
and its program audio only: a file named by one of its own playlists from AUDIO_GRACE ago on.
Path parts are checked against strict patterns before any file is touched, so no encoding of `..`, `/` or
`\\` can name a file outside the build folder. Files are read per request (the scheduler replaces them by
rename at any time); their sha256 is cached by (inode, size, mtime) and headers always describe the very
bytes sent, read from one open file.

aiohttp is imported inside the functions that need it: pipeline.config imports ServeSettings from here.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import os
import re
import signal
import sys
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pipeline.errors import ConfigError, PipelineError
from pipeline.stations import ID_RE, Registry, load_registry
from pipeline.tokens import TokenTable, load_tokens

if TYPE_CHECKING:
    from aiohttp import web

API = "/v1"
DAY_FILE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.(json|m3u8|xspf)$")
# dot-separated parts that are never empty: no "..", no leading dot, no slash or backslash
FILE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*\.(mp3|vtt)$")
FEED_RE = re.compile(r"^[a-z0-9][a-z0-9-]*\.xml$")
CONTENT_TYPES = {
    "json": "application/json; charset=utf-8",
    "m3u8": "application/vnd.apple.mpegurl; charset=utf-8",
    "xspf": "application/xspf+xml; charset=utf-8",
    "mp3": "audio/mpeg",
    "vtt": "text/vtt; charset=utf-8",
    "xml": "application/rss+xml; charset=utf-8",
}
CHUNK = 256 * 1024
MAX_PLAYS_PER_POST = 1000
# a station may still fetch a file its playlists named this long ago (a late sync, a re-fetch of a file it
# set aside); older days no longer open audio, so a withdrawn program stops being served
AUDIO_GRACE = timedelta(days=7)
ACCESS_FORMAT = '%a "%{X-Forwarded-For}i" %t "%r" %s %b %Tf "%{User-Agent}i"'


@dataclass(frozen=True)
class ServeSettings:
    """`[serve]` in radio.toml. Tokens and plays are centre state: they live outside build/, which is
    output that may be deleted and rebuilt."""

    host: str = "127.0.0.1"
    port: int = 8470
    tokens: Path = Path("state/station-tokens.json")
    plays_db: Path = Path("state/plays.sqlite")
    public_url: str = ""  # where portals reach /feeds and /media (the reverse proxy's https address)
    access_log: str = "-"  # "-" = stderr, "" = off, else a file
    max_body_kb: int = 256
    behind_hours: float = 6.0  # `radio stations status`: no sync for longer than this is "behind"


def parse_serve_settings(table: Mapping[str, Any], path: Path, root: Path, state_dir: Path) -> ServeSettings:
    def fail(key: str, message: str) -> ConfigError:
        return ConfigError(message, path=path, field=f"serve.{key}")

    def text(key: str, default: str) -> str:
        value = table.get(key, default)
        if not isinstance(value, str):
            raise fail(key, f"must be a string, got {value!r}")
        return value

    def number(key: str, default: float, low: float, high: float) -> float:
        value = table.get(key, default)
        if not isinstance(value, int | float) or isinstance(value, bool) or not low <= value <= high:
            raise fail(key, f"must be a number from {low:g} to {high:g}, got {value!r}")
        return float(value)

    port = table.get("port", ServeSettings.port)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise fail("port", f"must be a port number from 0 to 65535, got {port!r}")
    public_url = text("public_url", "").rstrip("/")
    if public_url and not re.match(r"^https?://[^\s/]+", public_url):
        raise fail("public_url", f"{public_url!r} is not an http(s) URL")
    return ServeSettings(
        host=text("host", ServeSettings.host),
        port=port,
        tokens=root / text("tokens", str(state_dir / "station-tokens.json")),
        plays_db=root / text("plays_db", str(state_dir / "plays.sqlite")),
        public_url=public_url,
        access_log=text("access_log", "-"),
        max_body_kb=int(number("max_body_kb", 256, 1, 65536)),
        behind_hours=number("behind_hours", 6, 0.1, 24 * 366),
    )


@dataclass(frozen=True)
class ServerPaths:
    playlists_dir: Path
    programs_dir: Path
    feeds_dir: Path
    stations_file: Path
    tokens: Path
    plays_db: Path


class RangeNotSatisfiable(Exception):
    pass


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The (first, last) bytes, inclusive, of a single `bytes=` range. None means "send the whole file":
    no header, a malformed one or several ranges (RFC 9110 lets a server ignore those). A range starting at
    or beyond the end raises RangeNotSatisfiable (416)."""
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_s, dash, last_s = spec.strip().partition("-")
    if not dash or not (first_s + last_s).isascii() or not (first_s + last_s).isdigit():
        return None
    if not first_s:  # suffix range: the last N bytes
        suffix = int(last_s)
        if suffix == 0:
            raise RangeNotSatisfiable
        return max(0, size - suffix), size - 1
    first = int(first_s)
    if last_s and int(last_s) < first:
        return None  # invalid: ignored
    if first >= size:
        raise RangeNotSatisfiable
    return first, min(int(last_s), size - 1) if last_s else size - 1


def etag_of(sha256: str) -> str:
    return f'"{sha256}"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match uses weak comparison: W/ prefixes are ignored; `*` matches any current file."""
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


def digest_headers(sha256: str) -> dict[str, str]:
    """The file's sha256 twice: hex for simple clients, RFC 9530 Repr-Digest for standard ones."""
    b64 = base64.b64encode(bytes.fromhex(sha256)).decode("ascii")
    return {"X-Content-SHA256": sha256, "Repr-Digest": f"sha-256=:{b64}:"}


def bearer(authorization: str | None) -> str | None:
    scheme, _, value = (authorization or "").partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value else None


@dataclass(frozen=True)
class FileInfo:
    key: tuple[int, int, int]  # inode, size, mtime_ns: a rename or rewrite changes it
    sha256: str
    body: bytes | None  # kept for small files (playlists, feeds)
    meta: Mapping[str, Any]


def _stat_key(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _sha_of_fd(fd: int) -> str:
    h = hashlib.sha256()
    offset = 0
    while block := os.pread(fd, 1 << 20, offset):
        h.update(block)
        offset += len(block)
    return h.hexdigest()


def _playlist_meta(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    try:
        items = [i for s in data.get("sessions", []) or [] for i in (s.get("items", []) or [])]
        urls = [i.get("url") for i in items]
        emergency = any(i.get("priority") == "emergency" for i in items)
    except (AttributeError, TypeError):
        return {}
    # the audio files this day opens to its station (`../../programs/<file>`)
    files = frozenset(n for u in urls if isinstance(u, str) and FILE_RE.match(n := u.rsplit("/", 1)[-1]))
    return {
        "revision": data.get("revision"),
        "emergency": bool(data.get("emergency")) or emergency,
        "files": files,
    }


class FileCache:
    """sha256 (and small files' bytes) by path, bounded, re-read when the file's stat key changes.

    One per server; the server's single event loop is the only user, so it needs no lock."""

    def __init__(self, limit: int = 16384) -> None:
        self.limit = limit
        self.entries: OrderedDict[Path, FileInfo] = OrderedDict()

    def info(self, path: Path, fd: int, *, keep_body: bool) -> FileInfo:
        key = _stat_key(os.fstat(fd))
        found = self.entries.get(path)
        if found is not None and found.key == key:
            self.entries.move_to_end(path)
            return found
        if keep_body:
            body = os.pread(fd, key[1] + 1, 0)
            meta = _playlist_meta(body) if path.suffix == ".json" else {}
            found = FileInfo(key, hashlib.sha256(body).hexdigest(), body, meta)
        else:
            found = FileInfo(key, _sha_of_fd(fd), None, {})
        self.entries[path] = found
        if len(self.entries) > self.limit:
            self.entries.popitem(last=False)
        return found


class AudioAccess:
    """Which program files each station may fetch: those named by its playlists dated from `today - grace`
    on. Rebuilt for a station only when that set of playlist files changes (names and stat keys), so a
    request costs one directory scan and a stat per day file; one per server, like FileCache."""

    def __init__(self, playlists_dir: Path, cache: FileCache, grace: timedelta = AUDIO_GRACE) -> None:
        self.playlists_dir = playlists_dir
        self.cache = cache
        self.grace = grace
        self.entries: dict[str, tuple[tuple[object, ...], frozenset[str]]] = {}

    def allowed(self, station: str, today: date) -> frozenset[str]:
        folder = self.playlists_dir / station
        cutoff = (today - self.grace).isoformat()
        days: list[tuple[str, tuple[int, int, int]]] = []
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    match = DAY_FILE_RE.match(entry.name)
                    if match and match.group(2) == "json" and match.group(1) >= cutoff:
                        with contextlib.suppress(FileNotFoundError):
                            days.append((entry.name, _stat_key(entry.stat())))
        except (FileNotFoundError, NotADirectoryError):
            pass
        key = (cutoff, *sorted(days))
        found = self.entries.get(station)
        if found is not None and found[0] == key:
            return found[1]
        names: set[str] = set()
        for name, _ in days:
            path = folder / name
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                names |= self.cache.info(path, fd, keep_body=True).meta.get("files", frozenset())
            finally:
                os.close(fd)
        allowed = frozenset(names)
        self.entries[station] = (key, allowed)
        return allowed


class Reloading:
    """The token store and station registry, reloaded when their file changes; a damaged new version is
    logged and the last good one kept, so an editing mistake never locks every station out."""

    def __init__(self, paths: ServerPaths, log: logging.Logger) -> None:
        self.paths = paths
        self.log = log
        self.tokens_key: tuple[int, int, int] | None = None
        self.table = TokenTable.of({})
        self.registry_key: tuple[int, int, int] | None = None
        self.zones: dict[str, str] = {}

    def tokens(self) -> TokenTable:
        try:
            key = _stat_key(self.paths.tokens.stat())
        except FileNotFoundError:
            self.tokens_key, self.table = None, TokenTable.of({})
            return self.table
        if key != self.tokens_key:
            try:
                self.table = TokenTable.of(load_tokens(self.paths.tokens))
            except PipelineError as exc:
                self.log.error("token store unusable, keeping the previous one: %s", exc)
            self.tokens_key = key
        return self.table

    def zone_of(self, station: str) -> str | None:
        try:
            key = _stat_key(self.paths.stations_file.stat())
        except FileNotFoundError:
            return self.zones.get(station)
        if key != self.registry_key:
            try:
                registry: Registry = load_registry(self.paths.stations_file)
                self.zones = {s.id: s.timezone for s in registry.stations}
            except PipelineError as exc:
                self.log.error("station registry unusable, keeping the previous one: %s", exc)
            self.registry_key = key
        return self.zones.get(station)


def feed_files(feeds_dir: Path) -> frozenset[str]:
    """Names of the files the published feeds enclose or link as transcripts (what /media may serve)."""
    import xml.etree.ElementTree as ET

    names: set[str] = set()
    for feed in sorted(feeds_dir.glob("*.xml")) if feeds_dir.is_dir() else []:
        try:
            root = ET.parse(feed).getroot()
        except (ET.ParseError, OSError):
            continue
        for element in root.iter():
            url = element.get("url") if element.tag in ("enclosure", f"{{{PODCAST_NS}}}transcript") else None
            if url:
                names.add(url.rsplit("/", 1)[-1])
    return frozenset(n for n in names if FILE_RE.match(n))


PODCAST_NS = "https://podcastindex.org/namespace/1.0"


def create_app(
    paths: ServerPaths,
    *,
    max_body_kb: int = 256,
    log: logging.Logger | None = None,
    clock: Callable[[], datetime] | None = None,
) -> web.Application:
    """The aiohttp application (tests run it in-process, with their own clock; `radio serve` runs it
    through `serve_forever`)."""
    from aiohttp import web

    from pipeline import plays

    logger = log or logging.getLogger("radio.serve")
    now = clock or (lambda: datetime.now().astimezone())
    cache = FileCache()
    audio_access = AudioAccess(paths.playlists_dir, cache)
    state = Reloading(paths, logger)
    media_key: list[tuple[tuple[str, int, int, int], ...]] = [()]
    media_names: list[frozenset[str]] = [frozenset()]

    def error(status: int, message: str, **extra: str) -> web.Response:
        body = json.dumps({"error": message, **extra}, ensure_ascii=False)
        return web.Response(status=status, text=body, content_type="application/json")

    def unauthorized(message: str) -> web.Response:
        response = error(401, message)
        response.headers["WWW-Authenticate"] = 'Bearer realm="radio"'
        return response

    def authorize(request: web.Request, station: str) -> web.Response | None:
        """None when the request may act for `station`, else the answer to send (404, 403 or 401)."""
        if not ID_RE.match(station):
            return error(404, "no such station")
        verdict = state.tokens().check(station, bearer(request.headers.get("Authorization")))
        if verdict == "ok":
            return None
        if verdict == "other":
            return error(403, "this token belongs to another station")
        return unauthorized("missing or unknown token")

    def small_file(request: web.Request, path: Path, kind: str) -> web.Response:
        try:
            fd = os.open(path, os.O_RDONLY)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return error(404, "no such file")
        try:
            info = cache.info(path, fd, keep_body=True)
        finally:
            os.close(fd)
        headers = {"ETag": etag_of(info.sha256), "Cache-Control": "no-cache", **digest_headers(info.sha256)}
        if etag_matches(request.headers.get("If-None-Match"), headers["ETag"]):
            return web.Response(status=304, headers=headers)
        return web.Response(body=info.body, headers={**headers, "Content-Type": CONTENT_TYPES[kind]})

    async def send_file(request: web.Request, path: Path, kind: str) -> web.StreamResponse:
        try:
            fd = os.open(path, os.O_RDONLY)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return error(404, "no such file")
        try:
            info = await asyncio.to_thread(cache.info, path, fd, keep_body=False)
            size = info.key[1]
            etag = etag_of(info.sha256)
            headers = {
                "ETag": etag,
                "Accept-Ranges": "bytes",
                "Cache-Control": "no-cache",
                "Content-Type": CONTENT_TYPES[kind],
                **digest_headers(info.sha256),
            }
            if etag_matches(request.headers.get("If-None-Match"), etag):
                return web.Response(
                    status=304, headers={k: v for k, v in headers.items() if k != "Content-Type"}
                )
            if_range = request.headers.get("If-Range")
            try:
                wanted = parse_range(request.headers.get("Range"), size)
            except RangeNotSatisfiable:
                headers["Content-Range"] = f"bytes */{size}"
                return web.Response(
                    status=416, headers={k: v for k, v in headers.items() if k != "Content-Type"}
                )
            if wanted is not None and if_range is not None and if_range.strip() != etag:
                wanted = None  # the client's partial copy is of another version: start again
            first, last = wanted if wanted is not None else (0, size - 1)
            response = web.StreamResponse(status=206 if wanted is not None else 200, headers=headers)
            if wanted is not None:
                response.headers["Content-Range"] = f"bytes {first}-{last}/{size}"
            response.content_length = last - first + 1
            await response.prepare(request)
            if request.method != "HEAD":
                offset = first
                while offset <= last:
                    block = await asyncio.to_thread(os.pread, fd, min(CHUNK, last - offset + 1), offset)
                    if not block:  # truncated under us (cannot happen with rename-only writers)
                        break
                    await response.write(block)
                    offset += len(block)
            await response.write_eof()
            return response
        finally:
            os.close(fd)

    async def playlist_index(request: web.Request) -> web.Response:
        station = request.match_info["station"]
        if (denied := authorize(request, station)) is not None:
            return denied
        zone = state.zone_of(station) or "UTC"
        today = now().astimezone(ZoneInfo(zone)).date()
        folder = paths.playlists_dir / station
        days = []
        for name in sorted(os.listdir(folder)) if folder.is_dir() else []:
            match = DAY_FILE_RE.match(name)
            if (
                not match
                or match.group(2) != "json"
                or match.group(1) < (today - timedelta(days=1)).isoformat()
            ):
                continue
            path = folder / name
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                info = cache.info(path, fd, keep_body=True)
            finally:
                os.close(fd)
            days.append(
                {
                    "date": match.group(1),
                    "url": name,
                    "etag": etag_of(info.sha256),
                    "sha256": info.sha256,
                    "revision": info.meta.get("revision"),
                    "emergency": bool(info.meta.get("emergency")),
                }
            )
        body = json.dumps({"station": station, "timezone": zone, "today": today.isoformat(), "days": days})
        etag = etag_of(hashlib.sha256(body.encode()).hexdigest())
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if etag_matches(request.headers.get("If-None-Match"), etag):
            return web.Response(status=304, headers=headers)
        return web.Response(text=body, content_type="application/json", headers=headers)

    async def playlist(request: web.Request) -> web.Response:
        station, name = request.match_info["station"], request.match_info["name"]
        if (denied := authorize(request, station)) is not None:
            return denied
        match = DAY_FILE_RE.match(name)
        if not match:
            return error(404, "no such playlist")
        try:
            date.fromisoformat(match.group(1))
        except ValueError:
            return error(404, "no such playlist")
        return small_file(request, paths.playlists_dir / station / name, match.group(2))

    async def program(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        station = state.tokens().station_of(bearer(request.headers.get("Authorization")))
        if station is None:
            return unauthorized("missing or unknown token")
        match = FILE_RE.match(name)
        if not match:
            return error(404, "no such file")
        today = now().astimezone(ZoneInfo(state.zone_of(station) or "UTC")).date()
        if name not in audio_access.allowed(station, today):
            return error(404, "no such file")  # the same answer as a missing file: existence is not told
        return await send_file(request, paths.programs_dir / name, match.group(1))

    async def read_json(request: web.Request) -> Any:
        try:
            return await request.json()
        except web.HTTPRequestEntityTooLarge:
            raise
        except (ValueError, UnicodeDecodeError):
            raise web.HTTPBadRequest(
                text=json.dumps({"error": "body is not JSON"}), content_type="application/json"
            ) from None

    async def post_plays(request: web.Request) -> web.Response:
        station = request.match_info["station"]
        if (denied := authorize(request, station)) is not None:
            return denied
        data = await read_json(request)
        raw = data.get("plays") if isinstance(data, dict) else None
        if not isinstance(raw, list) or len(raw) > MAX_PLAYS_PER_POST:
            return error(
                400, f"expected {{'plays': [...]}} with at most {MAX_PLAYS_PER_POST} records", field="plays"
            )
        records, rejected = [], []
        zone = state.zone_of(station)
        for index, item in enumerate(raw):
            try:
                record = plays.parse_play(item, station, f"plays[{index}]")
                # stored in the station's own time, so a play at 05:30 counts for its local day and month
                records.append(record.in_zone(ZoneInfo(zone)) if zone else record)
            except plays.PlayError as exc:
                rejected.append({"index": index, "field": exc.field or "", "error": exc.message})
        added, known = await asyncio.to_thread(plays.add_plays, paths.plays_db, records, now())
        return web.json_response({"accepted": added, "duplicates": known, "rejected": rejected})

    async def post_status(request: web.Request) -> web.Response:
        station = request.match_info["station"]
        if (denied := authorize(request, station)) is not None:
            return denied
        data = await read_json(request)
        address = request.headers.get("X-Forwarded-For", request.remote or "").split(",")[0].strip()
        try:
            status = plays.parse_status(data, station, now(), address)
        except plays.PlayError as exc:
            return error(400, exc.message, field=exc.field or "")
        await asyncio.to_thread(plays.save_status, paths.plays_db, status)
        return web.json_response({"station": station, "recorded": status.last_sync_at.isoformat()})

    async def feed(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if not FEED_RE.match(name):
            return error(404, "no such feed")
        return small_file(request, paths.feeds_dir / name, "xml")

    def published_media() -> frozenset[str]:
        feeds = sorted(paths.feeds_dir.glob("*.xml")) if paths.feeds_dir.is_dir() else []
        key = tuple((p.name, *_stat_key(p.stat())) for p in feeds)
        if key != media_key[0]:
            media_key[0], media_names[0] = key, feed_files(paths.feeds_dir)
        return media_names[0]

    async def media(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        match = FILE_RE.match(name)
        if not match or name not in published_media():
            return error(404, "not published")
        return await send_file(request, paths.programs_dir / name, match.group(1))

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    @web.middleware
    async def headers_middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        response = await handler(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    app = web.Application(client_max_size=max_body_kb * 1024, middlewares=[headers_middleware])
    app.router.add_get("/healthz", health)
    app.router.add_get(API + "/playlists/{station}/", playlist_index)
    app.router.add_get(API + "/playlists/{station}", playlist_index)
    app.router.add_get(API + "/playlists/{station}/{name}", playlist)
    app.router.add_get(API + "/programs/{name}", program)
    app.router.add_post(API + "/stations/{station}/plays", post_plays)
    app.router.add_post(API + "/stations/{station}/status", post_status)
    app.router.add_get("/feeds/{name}", feed)
    app.router.add_get("/media/{name}", media)
    return app


def access_logger(target: str) -> logging.Logger:
    """The access log: one line per request to stderr ("-"), a file, or nowhere ("")."""
    logger = logging.getLogger("radio.access")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    if target == "-":
        logger.addHandler(logging.StreamHandler(sys.stderr))
    elif target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        logger.addHandler(logging.FileHandler(target, encoding="utf-8"))
    else:
        logger.addHandler(logging.NullHandler())
    return logger


async def start_server(
    paths: ServerPaths,
    host: str,
    port: int,
    *,
    max_body_kb: int = 256,
    access_log: str = "",
    clock: Callable[[], datetime] | None = None,
) -> tuple[web.AppRunner, int]:
    """Start listening; returns the runner (call `cleanup()` to stop) and the bound port (port 0 = any)."""
    from aiohttp import web

    runner = web.AppRunner(
        create_app(paths, max_body_kb=max_body_kb, clock=clock),
        access_log=access_logger(access_log),
        access_log_format=ACCESS_FORMAT,
        max_line_size=4096,  # oversized request lines and headers are refused (400) before any handler
        max_field_size=8190,
        max_headers=64,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = int(runner.addresses[0][1]) if runner.addresses else port
    return runner, bound


def serve_forever(
    paths: ServerPaths,
    host: str,
    port: int,
    *,
    max_body_kb: int,
    access_log: str,
    on_ready: Callable[[str], None],
) -> None:
    """Run until SIGINT or SIGTERM; in-flight requests finish, then the listener closes."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            runner, bound = await start_server(
                paths, host, port, max_body_kb=max_body_kb, access_log=access_log
            )
        except OSError as exc:  # port taken, address not on this machine
            raise ConfigError(f"cannot listen: {exc.strerror or exc}", field="serve.port") from None
        on_ready(f"http://{host}:{bound}")
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
