"""The edge-tts engine: Microsoft Edge's online neural voices, through the edge-tts client.

The one module that imports edge_tts (and so aiohttp). Both are imported inside the functions that talk to
the service, so a no-op build never loads them. The service endpoint is ours to choose (`speech.edge_url`
or RADIO_EDGE_TTS_URL): edge-tts keeps its endpoints in module attributes, which `_use` sets in whichever
process is about to ask.

What the service does in the field (design.md section 5): 403 when its token scheme changes (edge-tts
retries once after correcting the clock skew from the answer's Date header), 429/503 under load, no audio,
timeouts. So: one request per paragraph, a bounded number at once across every process sharing the cache
(lock files), retries with exponential backoff, and a `stop` callback (the caller's circuit breaker) that is
asked before every attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import http
import importlib.metadata
import math
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from pipeline.errors import ConfigError, RenderError, ToolMissingError

DEFAULT_URL = "wss://speech.platform.bing.com/consumer/speech/synthesize/readaloud/edge/v1"
URL_ENV = "RADIO_EDGE_TTS_URL"
TICKS_PER_SECOND = 10_000_000  # boundary offsets and durations come in 100 ns ticks
URL_RE = re.compile(r"^wss?://[^/?#\s]+(?:/[^?#\s]*)?/edge/v1$")
PERCENT_RE = re.compile(r"^[+-]\d+%$")
HERTZ_RE = re.compile(r"^[+-]\d+Hz$")
SLOT_POLL_S = 0.02

Boundary = Literal["WordBoundary", "SentenceBoundary"]
T = TypeVar("T")


class EdgeFailure(RenderError):
    """The service did not deliver this request (worth retrying later)."""


class EdgeRefused(EdgeFailure):
    """The request itself is wrong (voice or prosody the client rejects): retrying cannot help."""


class EdgeUnreachable(EdgeFailure):
    """No connection at all (name resolution, refused, no route): the network or the service is down, which
    seconds of backoff do not mend; not retried, so an offline run falls back at once."""


class EdgeSkipped(EdgeFailure):
    """Not asked at all: the caller's circuit breaker is open."""


@dataclass(frozen=True)
class EdgeSettings:
    url: str = DEFAULT_URL  # websocket endpoint without query
    rate: str = "+0%"
    pitch: str = "+0Hz"
    volume: str = "+0%"
    concurrency: int = 2  # requests at once across every worker sharing one cache folder
    retries: int = 2  # after the first attempt
    backoff_s: float = 1.0  # first pause between attempts; doubles each time
    timeout_s: float = 30.0  # one whole request, connection to last audio frame

    @property
    def attempts(self) -> int:
        return self.retries + 1


@dataclass(frozen=True)
class EdgeJob:
    text: str
    voice: str  # e.g. vi-VN-HoaiMyNeural
    rate: str = "+0%"
    pitch: str = "+0Hz"
    volume: str = "+0%"


@dataclass(frozen=True)
class Mark:
    """A word or sentence boundary, in seconds from the start of the request's audio."""

    kind: str
    start_s: float
    end_s: float
    text: str


@dataclass(frozen=True)
class EdgeAudio:
    mp3: bytes  # 24 kHz 48 kbps mono MP3, as the service sends it
    marks: tuple[Mark, ...]


def _setting(table: Mapping[str, Any], key: str, kinds: tuple[type, ...], default: Any, path: Path) -> Any:
    value = table.get(key, default)
    if not isinstance(value, kinds) or isinstance(value, bool):
        raise ConfigError(f"must be {kinds[0].__name__}, got {value!r}", path=path, field=f"speech.{key}")
    return value


def check_url(url: str) -> str | None:
    """Why `url` cannot be the service endpoint, or None when it can."""
    if not URL_RE.match(url):
        return (
            f"{url!r} is not a websocket endpoint ending in /edge/v1 without query, e.g. "
            "ws://127.0.0.1:8765/consumer/speech/synthesize/readaloud/edge/v1"
        )
    return None


def parse_edge_settings(speech: Mapping[str, Any], path: Path) -> EdgeSettings:
    """The `edge_*` keys of radio.toml's [speech] table; RADIO_EDGE_TTS_URL overrides `edge_url`."""
    from_env = os.environ.get(URL_ENV)
    url = from_env or _setting(speech, "edge_url", (str,), DEFAULT_URL, path)
    problem = check_url(url)
    if problem:
        where = f"environment variable {URL_ENV}: " if from_env else ""
        raise ConfigError(where + problem, path=path, field="speech.edge_url")
    prosody = {}
    for key, pattern, default, example in (
        ("edge_rate", PERCENT_RE, "+0%", "-10%"),
        ("edge_pitch", HERTZ_RE, "+0Hz", "-2Hz"),
        ("edge_volume", PERCENT_RE, "+0%", "+0%"),
    ):
        value = _setting(speech, key, (str,), default, path)
        if not pattern.match(value):
            raise ConfigError(f"{value!r} is not like {example!r}", path=path, field=f"speech.{key}")
        prosody[key] = value
    concurrency = _setting(speech, "edge_concurrency", (int,), 2, path)
    retries = _setting(speech, "edge_retries", (int,), 2, path)
    backoff = float(_setting(speech, "edge_backoff_s", (float, int), 1.0, path))
    timeout = float(_setting(speech, "edge_timeout_s", (float, int), 30.0, path))
    for key, ok, rule in (
        ("edge_concurrency", 1 <= concurrency <= 16, "between 1 and 16"),
        ("edge_retries", 0 <= retries <= 10, "between 0 and 10"),
        ("edge_backoff_s", 0 <= backoff <= 60, "between 0 and 60"),
        ("edge_timeout_s", 0 < timeout <= 600, "more than 0 and at most 600"),
    ):
        if not ok:
            raise ConfigError(f"must be {rule}", path=path, field=f"speech.{key}")
    return EdgeSettings(
        url=url,
        rate=prosody["edge_rate"],
        pitch=prosody["edge_pitch"],
        volume=prosody["edge_volume"],
        concurrency=concurrency,
        retries=retries,
        backoff_s=backoff,
        timeout_s=timeout,
    )


def endpoints(url: str, token: str) -> tuple[str, str]:
    """edge-tts's two endpoints from ours: the websocket URL (edge-tts appends `&ConnectionId=...`, so it
    must carry the TrustedClientToken query) and the voice list (ws->http, edge/v1->voices/list)."""
    http = ("https" + url[3:]) if url.startswith("wss://") else ("http" + url[2:])
    voices = http[: -len("edge/v1")] + "voices/list"
    return f"{url}?TrustedClientToken={token}", f"{voices}?trustedclienttoken={token}"


def version() -> str:
    """The installed edge-tts version: part of the speech cache key (read without importing aiohttp)."""
    try:
        return importlib.metadata.version("edge-tts")
    except importlib.metadata.PackageNotFoundError:
        raise ToolMissingError("edge-tts is not installed (pip install -e . installs it)") from None


def _use(url: str) -> None:
    """Point the edge-tts client at `url` in this process (its endpoints are module attributes)."""
    import edge_tts.communicate
    import edge_tts.voices
    from edge_tts.constants import TRUSTED_CLIENT_TOKEN

    wss, voices = endpoints(url, TRUSTED_CLIENT_TOKEN)
    # The names the client reads at request time (imported into these modules from edge_tts.constants).
    setattr(edge_tts.communicate, "WSS_URL", wss)  # noqa: B010
    setattr(edge_tts.voices, "VOICE_LIST", voices)  # noqa: B010


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


async def _guarded(work: Awaitable[T], timeout_s: float) -> T:
    """Run one exchange with the service, turning every way it can fail into an EdgeFailure."""
    import aiohttp
    from edge_tts.exceptions import EdgeTTSException, NoAudioReceived

    try:
        async with asyncio.timeout(timeout_s):
            return await work
    except TimeoutError:
        raise EdgeFailure(f"no complete answer within {timeout_s:g} s") from None
    except aiohttp.ClientResponseError as exc:
        raise EdgeFailure(f"HTTP {exc.status} {_phrase(exc.status)}".rstrip()) from None
    except aiohttp.ClientConnectorError as exc:
        why = "refused" if isinstance(exc.os_error, ConnectionRefusedError) else exc.os_error.strerror
        raise EdgeUnreachable(f"cannot connect to {exc.host}:{exc.port} ({why})") from None
    except (aiohttp.ClientError, OSError) as exc:
        raise EdgeFailure(f"connection failed: {exc or type(exc).__name__}") from None
    except NoAudioReceived:
        raise EdgeFailure("the service sent no audio") from None
    except (EdgeTTSException, ValueError) as exc:  # ValueError: a malformed answer (e.g. bad JSON)
        raise EdgeFailure(f"{type(exc).__name__}: {exc}") from None


async def _request(job: EdgeJob, url: str, boundary: Boundary, timeout_s: float) -> EdgeAudio:
    import edge_tts

    _use(url)
    try:
        communicate = edge_tts.Communicate(
            job.text,
            job.voice,
            rate=job.rate,
            pitch=job.pitch,
            volume=job.volume,
            boundary=boundary,
            connect_timeout=math.ceil(timeout_s),
            receive_timeout=math.ceil(timeout_s),
        )
    except (TypeError, ValueError) as exc:
        raise EdgeRefused(f"edge-tts rejects the request: {exc}") from None
    audio = bytearray()
    marks: list[Mark] = []

    async def receive() -> None:
        async for chunk in communicate.stream():
            if chunk["type"] == "audio":
                audio.extend(chunk.get("data", b""))
            else:
                start = chunk.get("offset", 0.0) / TICKS_PER_SECOND
                end = start + chunk.get("duration", 0.0) / TICKS_PER_SECOND
                marks.append(Mark(chunk["type"], start, end, chunk.get("text", "")))

    await _guarded(receive(), timeout_s)
    # edge-tts ends the stream quietly when the connection drops after some audio; it counts a request's
    # audio bytes into `cumulative_audio_bytes` only when the service's turn.end arrives.
    if communicate.state["cumulative_audio_bytes"] != len(audio):
        raise EdgeFailure(f"the connection ended before the audio was complete ({len(audio)} bytes)")
    return EdgeAudio(bytes(audio), tuple(marks))


@contextlib.asynccontextmanager
async def _slot(folder: Path, count: int) -> AsyncIterator[None]:
    """One of `count` request slots shared by every process using `folder` (flock on lock files): a
    limit for the whole build, whatever the number of worker processes, and for two builds at once."""
    folder.mkdir(parents=True, exist_ok=True)
    while True:
        for index in range(count):
            handle = open(folder / f"slot-{index}.lock", "a")  # noqa: SIM115 (held across the yield)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()
            return
        await asyncio.sleep(SLOT_POLL_S)


async def _with_retries(
    attempt: Callable[[], Awaitable[T]], settings: EdgeSettings, stop: Callable[[], str | None]
) -> T:
    """Try up to `settings.attempts` times with exponential backoff; ask `stop` before every attempt."""
    last: EdgeFailure | None = None
    for number in range(settings.attempts):
        reason = stop()
        if reason is not None:
            raise EdgeSkipped(reason)
        try:
            return await attempt()
        except (EdgeRefused, EdgeUnreachable):
            raise
        except EdgeFailure as exc:
            last = exc
        if number + 1 < settings.attempts:
            await asyncio.sleep(settings.backoff_s * 2**number)
    assert last is not None
    raise EdgeFailure(f"{last.message} (after {settings.attempts} attempts)")


def synthesize_all(
    jobs: Sequence[EdgeJob],
    settings: EdgeSettings,
    *,
    slots: Path,
    stop: Callable[[], str | None] = lambda: None,
    on_failure: Callable[[str], None] = lambda _reason: None,
    boundary: Boundary = "SentenceBoundary",
) -> list[EdgeAudio | EdgeFailure]:
    """One request per job, at most `settings.concurrency` at once across processes (slot lock files in
    `slots`); each job's audio or why it failed. `on_failure` hears of every job that failed for good
    (so a breaker can open at once); jobs not yet started then find `stop` answering and are skipped."""

    async def one(job: EdgeJob) -> EdgeAudio | EdgeFailure:
        # The slot is held through the backoff pauses (a struggling service gets fewer requests) and until
        # `on_failure` has run, so a job waiting for the slot finds `stop` answering.
        async with _slot(slots, settings.concurrency):
            try:
                return await _with_retries(
                    lambda: _request(job, settings.url, boundary, settings.timeout_s), settings, stop
                )
            except EdgeSkipped as exc:
                return exc
            except EdgeFailure as exc:
                on_failure(exc.message)
                return exc

    async def run() -> list[EdgeAudio | EdgeFailure]:
        return list(await asyncio.gather(*(one(job) for job in jobs)))

    return asyncio.run(run())


def synthesize(
    job: EdgeJob, settings: EdgeSettings, *, slots: Path, boundary: Boundary = "SentenceBoundary"
) -> EdgeAudio:
    """One request (with the retries of `settings`); raises EdgeFailure when the service failed."""
    [result] = synthesize_all([job], settings, slots=slots, boundary=boundary)
    if isinstance(result, EdgeFailure):
        raise result
    return result


def list_voices(settings: EdgeSettings, stop: Callable[[], str | None] = lambda: None) -> frozenset[str]:
    """The voices the service offers, by short name (vi-VN-HoaiMyNeural) and full name."""

    async def fetch() -> frozenset[str]:
        import edge_tts

        _use(settings.url)
        voices = await _guarded(edge_tts.list_voices(), settings.timeout_s)
        return frozenset(name for v in voices for name in (v.get("ShortName"), v.get("Name")) if name)

    return asyncio.run(_with_retries(fetch, settings, stop))
