"""ID3v2.4 tags. The one module that calls mutagen; its errors become RenderErrors naming the file.

Fields are declared as data (one table), as beets' mediafile does, so reading back is the same table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mutagen import MutagenError
from mutagen.id3 import (
    APIC,
    CHAP,
    COMM,
    CTOC,
    ID3,
    TALB,
    TCON,
    TDRC,
    TIT2,
    TLAN,
    TPE1,
    TXXX,
    USLT,
    CTOCFlags,
    Encoding,
)

from pipeline.errors import RenderError

LANGUAGE = "vie"


@dataclass(frozen=True)
class Chapter:
    title: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class ProgramTags:
    title: str
    producer: str
    series: str
    date: str  # ISO date
    comment: str
    transcript: str
    extra: tuple[tuple[str, str], ...]  # TXXX description -> value
    chapters: tuple[Chapter, ...]
    artwork: Path | None = None  # PNG or JPEG cover


TEXT_FRAMES = {"title": TIT2, "producer": TPE1, "series": TALB, "date": TDRC}


def write_tags(path: Path, tags: ProgramTags) -> None:
    id3 = ID3()
    utf8 = Encoding.UTF8
    for field, frame in TEXT_FRAMES.items():
        id3.add(frame(encoding=utf8, text=[getattr(tags, field)]))
    id3.add(TCON(encoding=utf8, text=["Speech"]))
    id3.add(TLAN(encoding=utf8, text=[LANGUAGE]))
    id3.add(COMM(encoding=utf8, lang=LANGUAGE, desc="", text=[tags.comment]))
    id3.add(USLT(encoding=utf8, lang=LANGUAGE, desc="", text=tags.transcript))
    for desc, value in tags.extra:
        id3.add(TXXX(encoding=utf8, desc=desc, text=[value]))
    if tags.chapters:
        ids = [f"chp{index}" for index in range(len(tags.chapters))]
        id3.add(
            CTOC(
                element_id="toc",
                flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                child_element_ids=ids,
                sub_frames=[TIT2(encoding=utf8, text=[tags.title])],
            )
        )
        for element_id, chapter in zip(ids, tags.chapters, strict=True):
            id3.add(
                CHAP(
                    element_id=element_id,
                    start_time=chapter.start_ms,
                    end_time=chapter.end_ms,
                    sub_frames=[TIT2(encoding=utf8, text=[chapter.title])],
                )
            )
    if tags.artwork is not None:
        try:
            image = tags.artwork.read_bytes()
        except OSError as exc:
            raise RenderError(f"cannot read artwork: {exc.strerror}", path=tags.artwork) from None
        mime = "image/png" if image.startswith(b"\x89PNG") else "image/jpeg"
        id3.add(APIC(encoding=utf8, mime=mime, type=3, desc="Cover", data=image))
    try:
        id3.save(str(path), v2_version=4)
    except (MutagenError, OSError) as exc:
        raise RenderError(f"cannot write tags: {exc}", path=path) from None


def read_tags(path: Path) -> dict[str, object]:
    """The tags as a plain dict, for tests and checks (chapters as (title, start_ms, end_ms))."""
    try:
        id3 = ID3(str(path))
    except (MutagenError, OSError) as exc:
        raise RenderError(f"cannot read tags: {exc}", path=path) from None
    out: dict[str, object] = {"version": id3.version}
    for field, frame in TEXT_FRAMES.items():
        found = id3.getall(frame.__name__)
        out[field] = str(found[0].text[0]) if found else None
    out["genre"] = str(id3["TCON"].text[0]) if "TCON" in id3 else None
    out["language"] = str(id3["TLAN"].text[0]) if "TLAN" in id3 else None
    lyrics = id3.getall("USLT")
    out["transcript"] = lyrics[0].text if lyrics else None
    out["artwork"] = [(frame.mime, len(frame.data)) for frame in id3.getall("APIC")]
    out["extra"] = {frame.desc: str(frame.text[0]) for frame in id3.getall("TXXX")}
    out["chapters"] = [
        (str(chap.sub_frames["TIT2"].text[0]), chap.start_time, chap.end_time)
        for chap in sorted(id3.getall("CHAP"), key=lambda c: c.start_time)
    ]
    return out
