"""Project configuration: find the project root from the current directory and read radio.toml."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.edge import EdgeSettings, parse_edge_settings
from pipeline.errors import ConfigError
from pipeline.renditions import Rendition, parse_renditions
from pipeline.schedule import ScheduleSettings, parse_schedule_settings
from pipeline.serve import ServeSettings, parse_serve_settings

CONFIG_NAME = "radio.toml"
ENGINES = ("auto", "edge", "espeak")  # auto: edge-tts, falling back to espeak-ng per paragraph


@dataclass(frozen=True)
class Presenter:
    name: str
    espeak_voice: str
    edge_voice: str = ""  # edge-tts voice, e.g. vi-VN-HoaiMyNeural (needed by engines auto and edge)


@dataclass(frozen=True)
class Settings:
    root: Path
    scripts_dir: Path
    templates_dir: Path
    stations_file: Path
    build_dir: Path
    lexicon_file: Path
    engine: str
    speech_rate_wpm: int
    presenters: Mapping[str, Presenter]
    jobs: int
    item_gap_s: float
    renditions: tuple[Rendition, ...] = ()
    max_tempo_change: float = 0.07  # speech may be sped up or slowed down this much to fit its kind's bounds
    state_dir: Path = Path("state")  # editorial decisions and locks: records, not build output
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    serve: ServeSettings = field(default_factory=ServeSettings)  # distribution server: centre state
    speech_pitch: int = 50  # espeak-ng pitch, 0-99
    edge: EdgeSettings = field(default_factory=EdgeSettings)  # edge-tts endpoint, prosody, retries

    @property
    def programs_dir(self) -> Path:
        return self.build_dir / "programs"

    @property
    def playlists_dir(self) -> Path:
        return self.build_dir / "playlists"

    @property
    def cache_dir(self) -> Path:
        return self.build_dir / "cache"

    @property
    def effective_jobs(self) -> int:
        return self.jobs if self.jobs > 0 else (os.cpu_count() or 1)


def find_config(start: Path) -> Path:
    """The nearest radio.toml in `start` or a folder above it; never where the package is installed."""
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    raise ConfigError(f"no {CONFIG_NAME} in {start} or any folder above it (run radio inside a project)")


def _table(data: Mapping[str, Any], key: str, path: Path) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError("must be a table", path=path, field=key)
    return value


def _get(table: Mapping[str, Any], key: str, kind: type, default: Any, path: Path, section: str) -> Any:
    value = table.get(key, default)
    # bool is an int in Python; a config value of `true` for a number is a mistake worth naming
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"must be {kind.__name__}, got {value!r}", path=path, field=f"{section}.{key}")
    return value


def load_settings(config_path: Path | None = None, cwd: Path | None = None) -> Settings:
    path = config_path if config_path is not None else find_config((cwd or Path.cwd()).resolve())
    path = path.resolve()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path=path) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=path) from exc
    root = path.parent
    paths = _table(data, "paths", path)
    speech = _table(data, "speech", path)
    render = _table(data, "render", path)
    schedule = _table(data, "schedule", path)

    def resolve(key: str, default: str) -> Path:
        return root / str(_get(paths, key, str, default, path, "paths"))

    engine = os.environ.get("RADIO_ENGINE") or _get(speech, "engine", str, "espeak", path, "speech")
    if engine not in ENGINES:
        raise ConfigError(
            f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}", path=path, field="speech.engine"
        )
    presenters: dict[str, Presenter] = {}
    for name, table in _table(data, "presenters", path).items():
        if not isinstance(table, dict):
            raise ConfigError("must be a table", path=path, field=f"presenters.{name}")
        voice = _get(table, "espeak", str, "vi", path, f"presenters.{name}")
        edge_voice = _get(table, "edge", str, "", path, f"presenters.{name}")
        presenters[name] = Presenter(name=name, espeak_voice=voice, edge_voice=edge_voice)
    if not presenters:
        raise ConfigError(
            "declare at least one presenter, e.g. [presenters.female]", path=path, field="presenters"
        )
    rate = _get(speech, "rate_wpm", int, 145, path, "speech")
    if not 80 <= rate <= 400:
        raise ConfigError("must be between 80 and 400", path=path, field="speech.rate_wpm")
    pitch = _get(speech, "pitch", int, 50, path, "speech")
    if not 0 <= pitch <= 99:
        raise ConfigError("must be between 0 and 99", path=path, field="speech.pitch")
    jobs = _get(render, "jobs", int, 0, path, "render")
    if jobs < 0:
        raise ConfigError("must be 0 (one per core) or more", path=path, field="render.jobs")
    renditions = parse_renditions(_table(data, "renditions", path), path)
    state_dir = Path(os.environ.get("RADIO_STATE_DIR") or resolve("state", "state"))
    return Settings(
        renditions=renditions,
        max_tempo_change=float(_get(render, "max_tempo_change", (int | float), 0.07, path, "render")),  # type: ignore[arg-type]
        root=root,
        scripts_dir=resolve("scripts", "scripts"),
        templates_dir=resolve("templates", "audio_templates"),
        stations_file=resolve("stations", "schedules/stations.yaml"),
        build_dir=Path(os.environ.get("RADIO_BUILD_DIR") or resolve("build", "build")),
        lexicon_file=resolve("lexicon", "lexicon.yaml"),
        engine=engine,
        speech_rate_wpm=rate,
        presenters=presenters,
        jobs=jobs,
        item_gap_s=float(_get(schedule, "item_gap_s", (int | float), 2, path, "schedule")),  # type: ignore[arg-type]
        state_dir=state_dir,
        schedule=parse_schedule_settings(schedule, path),
        serve=parse_serve_settings(_table(data, "serve", path), path, root, state_dir),
        speech_pitch=pitch,
        edge=parse_edge_settings(speech, path),
    )
