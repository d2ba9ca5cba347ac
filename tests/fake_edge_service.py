"""A loopback fake of the Microsoft Edge read-aloud service that edge-tts talks to, for tests and demos.

It speaks the service's protocol to the real edge-tts client: a websocket at
`/consumer/speech/synthesize/readaloud/edge/v1?TrustedClientToken=...&ConnectionId=...&Sec-MS-GEC=...
&Sec-MS-GEC-Version=...` (the Sec-MS-GEC token is checked against this server's clock: a wrong one gets a
403 with a Date header, from which the client corrects its clock skew), a `Path:speech.config` and a
`Path:ssml` text frame in, and out: `turn.start`, `response`, `audio.metadata` (WordBoundary or
SentenceBoundary, offsets and durations in 100 ns ticks), binary audio frames (2-byte big-endian header
length, headers ending in `Path:audio`, then MP3 bytes), a last audio frame without Content-Type or payload,
and `turn.end`; plus the voice list at `/consumer/speech/synthesize/readaloud/voices/list`.

The audio is real speech: the SSML's text read by espeak-ng sentence by sentence (which gives the boundary
timings) and encoded by ffmpeg as the service's 24 kHz 48 kbps mono MP3.

Faults, chosen per test: `skew` (this server's clock is an hour ahead: one 403 with a Date header, then the
corrected client gets in), `forbidden` (403 every time), `rate_limit` (429), `unavailable` (503), `drop`
(connection lost mid-stream), `no_audio` (turn.end without audio), `slow` (answers after `delay_s`). A fault
hits the first `times` requests (None: all of them).

Run on its own for a demo: `python tests/fake_edge_service.py --port 8765`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import tempfile
import threading
import time
import uuid
import wave
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from xml.sax.saxutils import escape

from aiohttp import web

SPEECH_PATH = "/consumer/speech/synthesize/readaloud/edge/v1"
VOICES_PATH = "/consumer/speech/synthesize/readaloud/voices/list"
TICKS = 10_000_000
MP3_BYTES_PER_S = 48_000 // 8
CHUNK = 4096
SKEW_S = 3600.0
FULL_NAME_RE = re.compile(
    r"^Microsoft Server Speech Text to Speech Voice \((?P<locale>[^,]+), (?P<name>.+)\)$"
)
SENTENCE_RE = re.compile(r"(?<=[.!?…])\s+")
WORD_RE = re.compile(r"\w+")


def voice_entry(short: str, gender: str, friendly: str) -> dict[str, object]:
    locale, name = short.rsplit("-", 1)
    return {
        "Name": f"Microsoft Server Speech Text to Speech Voice ({locale}, {name})",
        "ShortName": short,
        "Gender": gender,
        "Locale": locale,
        "SuggestedCodec": "audio-24khz-48kbitrate-mono-mp3",
        "FriendlyName": f"Microsoft {friendly} Online (Natural) - {locale}",
        "Status": "GA",
        "VoiceTag": {"ContentCategories": ["General"], "VoicePersonalities": ["Friendly", "Positive"]},
    }


VOICES = [
    voice_entry("vi-VN-HoaiMyNeural", "Female", "HoaiMy"),
    voice_entry("vi-VN-NamMinhNeural", "Male", "NamMinh"),
    voice_entry("en-US-EmmaMultilingualNeural", "Female", "Emma"),
]
ESPEAK_VOICE = {
    "vi-VN-HoaiMyNeural": "vi+f3",
    "vi-VN-NamMinhNeural": "vi",
    "en-US-EmmaMultilingualNeural": "en",
}


@dataclass
class Seen:
    """What the fake was asked, for tests to check."""

    handshakes: int = 0  # websocket connection attempts, refused ones included
    refused: int = 0
    voice_lists: int = 0
    syntheses: list[tuple[str, str, str]] = field(default_factory=list)  # (voice, text, boundary kind)
    open_now: int = 0
    open_most: int = 0


def parse_frame(text: str) -> tuple[dict[str, str], str]:
    head, _, body = text.partition("\r\n\r\n")
    headers = dict(line.split(":", 1) for line in head.split("\r\n") if ":" in line)
    return headers, body


def text_frame(request_id: str, path: str, body: dict[str, object]) -> str:
    return (
        f"X-RequestId:{request_id}\r\nContent-Type:application/json; charset=utf-8\r\nPath:{path}\r\n\r\n"
        + json.dumps(body, ensure_ascii=False)
    )


def audio_frame(request_id: str, stream_id: str, payload: bytes) -> bytes:
    content_type = "Content-Type:audio/mpeg\r\n" if payload else ""
    headers = f"X-RequestId:{request_id}\r\n{content_type}X-StreamId:{stream_id}\r\nPath:audio\r\n".encode()
    return len(headers).to_bytes(2, "big") + headers + payload


def read_ssml(ssml: str) -> tuple[str, str, str]:
    """(short voice name, text, rate) of the SSML edge-tts sends."""
    root = ET.fromstring(ssml)
    ns = "{http://www.w3.org/2001/10/synthesis}"
    voice = root.find(f"{ns}voice")
    prosody = voice.find(f"{ns}prosody") if voice is not None else None
    if voice is None or prosody is None:
        raise ValueError("SSML without voice/prosody")
    match = FULL_NAME_RE.match(voice.get("name", ""))
    short = f"{match['locale']}-{match['name']}" if match else voice.get("name", "")
    return short, "".join(prosody.itertext()), prosody.get("rate", "+0%")


def speak(text: str, espeak_voice: str, rate: str) -> tuple[bytes, list[tuple[float, float, str]]]:
    """MP3 bytes of `text` and each sentence's (start, end, text) in seconds."""
    speed = round(165 * (1 + int(rate.rstrip("%")) / 100))
    sentences = [s for s in SENTENCE_RE.split(text.strip()) if s] or [text]
    timings = []
    with tempfile.TemporaryDirectory() as folder:
        joined_path = Path(folder) / "all.wav"
        with wave.open(str(joined_path), "wb") as joined:
            start = 0.0
            for index, sentence in enumerate(sentences):
                part = Path(folder) / f"{index}.wav"
                args = ["espeak-ng", "-v", espeak_voice, "-s", str(speed), "-b", "1", "-w", str(part)]
                subprocess.run(args, input=sentence.encode(), check=True, capture_output=True)
                with wave.open(str(part), "rb") as piece:
                    if index == 0:
                        joined.setparams(piece.getparams())
                    joined.writeframes(piece.readframes(piece.getnframes()))
                    length = piece.getnframes() / piece.getframerate()
                timings.append((start, start + length, sentence))
                start += length
        mp3 = subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-i", str(joined_path), "-ar", "24000", "-ac", "1",
             "-b:a", "48k", "-write_xing", "0", "-id3v2_version", "0", "-f", "mp3", "-"],
            check=True, capture_output=True,
        ).stdout  # fmt: skip
    return mp3, timings


def boundaries(timings: list[tuple[float, float, str]], words: bool) -> list[list[dict[str, object]]]:
    """Per sentence, its metadata entries: the sentence, or its words spread over it by length."""
    out = []
    for start, end, sentence in timings:
        kind = "WordBoundary" if words else "SentenceBoundary"
        if words:
            found = WORD_RE.findall(sentence)
            weights = [len(w) + 1 for w in found]
            total, spans, at = sum(weights) or 1, [], start
            for word, weight in zip(found, weights, strict=True):
                length = (end - start) * 0.9 * weight / total  # the sentence's tail is a pause
                spans.append((at, length, word))
                at += length
        else:
            spans = [(start, end - start, sentence)]
        out.append(
            [
                {"Type": kind, "Data": {"Offset": round(at * TICKS), "Duration": round(length * TICKS),
                                        "text": {"Text": escape(word), "Length": len(word),
                                                 "BoundaryType": kind}}}
                for at, length, word in spans
            ]
        )  # fmt: skip
    return out


class FakeEdgeService:
    """The fake on 127.0.0.1 (a free port unless given), served from a background thread."""

    def __init__(self, mode: str = "ok", *, times: int | None = None, delay_s: float = 3.0,
                 on_voices: bool = True, port: int = 0) -> None:  # fmt: skip
        self.mode = mode
        self.times = times  # how many requests the fault hits; None: all
        self.delay_s = delay_s
        self.on_voices = on_voices  # HTTP faults hit the voice list too
        self.seen = Seen()
        self.port = port
        self._faulted = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._token = ""

    @property
    def url(self) -> str:
        """The websocket endpoint without query, as RADIO_EDGE_TTS_URL takes it."""
        return f"ws://127.0.0.1:{self.port}{SPEECH_PATH}"

    # ---- faults and checks

    def _fault(self, modes: tuple[str, ...]) -> bool:
        """Whether this request gets the configured fault (counting it)."""
        if self.mode not in modes or (self.times is not None and self._faulted >= self.times):
            return False
        self._faulted += 1
        return True

    def _now(self) -> float:
        return time.time() + (SKEW_S if self.mode == "skew" else 0.0)

    def _token_ok(self, token: str) -> bool:
        from edge_tts.drm import generate_sec_ms_gec_v2

        now = self._now()
        return any(token == generate_sec_ms_gec_v2(now + step * 300) for step in (-1, 0, 1))

    def _refusal(self, query: dict[str, str], token_key: str) -> web.Response | None:
        """The service's HTTP answers before any audio: bad token or clock (403), load (429, 503)."""
        if query.get(token_key) != self._token:
            return web.Response(status=401, text="unknown client")
        forbidden = self._fault(("forbidden",))
        if forbidden or not self._token_ok(query.get("Sec-MS-GEC", "")):
            date = formatdate(self._now(), usegmt=True)  # the server's clock: the client corrects its skew
            return web.Response(status=403, text="Forbidden", headers={"Date": date})
        if self._fault(("rate_limit",)):
            return web.Response(status=429, text="Too Many Requests", headers={"Retry-After": "1"})
        if self._fault(("unavailable",)):
            return web.Response(status=503, text="Service Unavailable")
        return None

    # ---- endpoints

    async def voices(self, request: web.Request) -> web.Response:
        self.seen.voice_lists += 1
        if self.on_voices:
            refusal = self._refusal(dict(request.query), "trustedclienttoken")
            if refusal is not None:
                return refusal
        return web.json_response(VOICES)

    async def synthesize(self, request: web.Request) -> web.StreamResponse:
        self.seen.handshakes += 1
        query = dict(request.query)
        if not query.get("ConnectionId") or not query.get("Sec-MS-GEC-Version"):
            return web.Response(status=400, text="missing ConnectionId or Sec-MS-GEC-Version")
        refusal = self._refusal(query, "TrustedClientToken")
        if refusal is not None:
            self.seen.refused += 1
            return refusal
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.seen.open_now += 1
        self.seen.open_most = max(self.seen.open_most, self.seen.open_now)
        try:
            await self._turn(ws, request)
        except ConnectionError:
            pass  # the client gave up (its timeout) or the fake dropped the line on purpose
        finally:
            self.seen.open_now -= 1
        return ws

    async def _turn(self, ws: web.WebSocketResponse, request: web.Request) -> None:
        config: dict[str, object] | None = None
        async for message in ws:
            if message.type != web.WSMsgType.TEXT:
                continue
            headers, body = parse_frame(message.data)
            if headers.get("Path") == "speech.config":
                config = json.loads(body)
            elif headers.get("Path") == "ssml" and config is not None:
                await self._answer(ws, request, headers.get("X-RequestId", uuid.uuid4().hex), config, body)
                break
        await ws.close()

    async def _answer(self, ws: web.WebSocketResponse, request: web.Request, request_id: str,
                      config: dict[str, object], ssml: str) -> None:  # fmt: skip
        options = config["context"]["synthesis"]["audio"]["metadataoptions"]  # type: ignore[index]
        words = options["wordBoundaryEnabled"] == "true"
        voice, text, rate = read_ssml(ssml)
        self.seen.syntheses.append((voice, text, "WordBoundary" if words else "SentenceBoundary"))
        stream_id = uuid.uuid4().hex
        await ws.send_str(text_frame(request_id, "turn.start", {"context": {"serviceTag": stream_id}}))
        inline = {"type": "inline", "streamId": stream_id}
        context = {"serviceTag": stream_id}
        await ws.send_str(text_frame(request_id, "response", {"context": context, "audio": inline}))
        if self._fault(("slow",)):
            await asyncio.sleep(self.delay_s)
        if voice not in ESPEAK_VOICE or self._fault(("no_audio",)):
            await ws.send_str(text_frame(request_id, "turn.end", {}))
            return
        mp3, timings = await asyncio.get_running_loop().run_in_executor(
            None, speak, text, ESPEAK_VOICE[voice], rate
        )
        drop = self._fault(("drop",))
        sent = 0
        for (_start, end, _text), entries in zip(timings, boundaries(timings, words), strict=True):
            for entry in entries:
                await ws.send_str(text_frame(request_id, "audio.metadata", {"Metadata": [entry]}))
            until = len(mp3) if end == timings[-1][1] else min(len(mp3), round(end * MP3_BYTES_PER_S))
            while sent < until:
                if drop and sent >= len(mp3) // 2:
                    assert request.transport is not None
                    request.transport.abort()  # the network goes away mid-stream
                    return
                await ws.send_bytes(audio_frame(request_id, stream_id, mp3[sent : min(until, sent + CHUNK)]))
                sent = min(until, sent + CHUNK)
        await ws.send_bytes(audio_frame(request_id, stream_id, b""))
        await ws.send_str(text_frame(request_id, "turn.end", {}))

    # ---- running

    async def _serve(self, ready: threading.Event) -> None:
        from edge_tts.constants import TRUSTED_CLIENT_TOKEN

        self._token = TRUSTED_CLIENT_TOKEN
        app = web.Application()
        app.router.add_get(SPEECH_PATH, self.synthesize)
        app.router.add_get(VOICES_PATH, self.voices)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        ready.set()

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:  # handlers still sleeping (slow mode) or writing
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    def start(self) -> FakeEdgeService:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._serve(ready))
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="fake-edge-tts", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake edge-tts service did not start")
        return self

    def stop(self) -> None:
        """Close the port and end the thread; the URL then refuses connections (a service gone away)."""
        if self._loop is None or self._thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._loop = None
        self._thread = None

    def __enter__(self) -> FakeEdgeService:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Loopback fake of the edge-tts service (tests, demos).")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--mode", default="ok")
    args = parser.parse_args()
    with FakeEdgeService(args.mode, port=args.port) as fake:
        print(f"RADIO_EDGE_TTS_URL={fake.url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
