"""Renditions: one program, several deliverables, each with its own processing chain and targets.

`loudspeaker` (the primary file, `<id>.mp3`) is band-limited and compressed for horn loudspeakers; `web`
(`<id>.web.mp3`) keeps the full band for portals. Both are configured in radio.toml `[renditions.<name>]`;
a template may override a rendition's loudness targets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,23}$")

# Horn loudspeakers: cut the lows that muddy consonants, stop above the horn's band, even out the level
# over a few seconds (a listener outdoors must not lose a quiet insert or presenter: LRA <= 5 LU), then
# compress for intelligibility at a distance (design.md section 4). Loudness comes last, in mastering.
LOUDSPEAKER_CHAIN = (
    "highpass=f=170:poles=2,lowpass=f=7000:poles=2,"
    "dynaudnorm=f=200:g=15:m=10:p=0.7:s=12,"
    "acompressor=threshold=0.063:ratio=3:attack=8:release=200:knee=3:makeup=2"
)
# Web: full band; a gentle compressor only, so the program keeps its natural dynamics for headphones.
WEB_CHAIN = "highpass=f=60:poles=1,acompressor=threshold=0.1:ratio=2:attack=15:release=250:knee=4:makeup=1"


@dataclass(frozen=True)
class Rendition:
    name: str
    chain: str  # ffmpeg filters applied to the mix
    integrated_lufs: float
    true_peak_dbtp: float
    max_lra: float | None
    bitrate_kbps: int
    sample_rate: int
    channels: int
    quality: int  # LAME algorithm quality (ffmpeg -compression_level): 0 best/slowest .. 9 fastest
    primary: bool

    def file_name(self, program_id: str) -> str:
        return f"{program_id}.mp3" if self.primary else f"{program_id}.{self.name}.mp3"


DEFAULTS = (
    # LAME quality 7 is plenty for band-limited speech on horns and twice as fast as the default
    Rendition("loudspeaker", LOUDSPEAKER_CHAIN, -16.0, -2.0, 5.0, 96, 44100, 1, 7, True),
    Rendition("web", WEB_CHAIN, -16.0, -1.5, None, 128, 44100, 1, 5, False),
)


def _number(
    table: Mapping[str, Any], key: str, default: float | None, path: Path, field: str, low: float, high: float
) -> float | None:
    value = table.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"must be a number from {low} to {high}, got {value!r}", path=path, field=field)
    return float(value)


def parse_renditions(data: Mapping[str, Any], path: Path) -> tuple[Rendition, ...]:
    """`[renditions.<name>]` tables; absent means the two defaults. Exactly one rendition is primary."""
    if not data:
        return DEFAULTS
    known = {r.name: r for r in DEFAULTS}
    out: list[Rendition] = []
    for name, table in data.items():
        where = f"renditions.{name}"
        if not NAME_RE.match(name) or not isinstance(table, dict):
            raise ConfigError("must be a table named with lowercase letters", path=path, field=where)
        base = known.get(name, replace(DEFAULTS[1], name=name))
        if table.get("enabled", True) is False:
            continue

        def num(key: str, default: float | None, low: float, high: float) -> float | None:
            return _number(table, key, default, path, f"{where}.{key}", low, high)  # noqa: B023

        chain = table.get("chain", base.chain)
        if not isinstance(chain, str) or not chain.strip():
            raise ConfigError("must be a non-empty ffmpeg filter chain", path=path, field=f"{where}.chain")
        out.append(
            Rendition(
                name=name,
                chain=chain,
                integrated_lufs=num("integrated_lufs", base.integrated_lufs, -40, -5) or base.integrated_lufs,
                true_peak_dbtp=num("true_peak_dbtp", base.true_peak_dbtp, -12, 0) or base.true_peak_dbtp,
                max_lra=num("max_lra", base.max_lra, 1, 30),
                bitrate_kbps=int(num("bitrate_kbps", base.bitrate_kbps, 32, 320) or base.bitrate_kbps),
                sample_rate=int(num("sample_rate", base.sample_rate, 16000, 48000) or base.sample_rate),
                channels=int(num("channels", base.channels, 1, 2) or base.channels),
                quality=int(num("quality", base.quality, 0, 9) or 0),
                primary=bool(table.get("primary", base.primary)),
            )
        )
    if sum(r.primary for r in out) != 1:
        raise ConfigError(
            "exactly one enabled rendition must be primary (primary = true)", path=path, field="renditions"
        )
    return tuple(sorted(out, key=lambda r: (not r.primary, r.name)))


def with_template_targets(
    renditions: tuple[Rendition, ...], overrides: Mapping[str, Mapping[str, float]]
) -> tuple[Rendition, ...]:
    """A template's `renditions: {name: {integrated_lufs, true_peak_dbtp, max_lra}}` overrides targets."""
    out = []
    for rendition in renditions:
        targets = overrides.get(rendition.name, {})
        out.append(
            replace(
                rendition,
                integrated_lufs=float(targets.get("integrated_lufs", rendition.integrated_lufs)),
                true_peak_dbtp=float(targets.get("true_peak_dbtp", rendition.true_peak_dbtp)),
                max_lra=float(targets["max_lra"]) if "max_lra" in targets else rendition.max_lra,
            )
        )
    return tuple(out)
