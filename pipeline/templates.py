"""Audio templates: `audio_templates/<name>/template.yaml` plus its jingles and bed."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import ConfigError

TEMPLATE_FILE = "template.yaml"
TARGET_KEYS = {"integrated_lufs": (-40.0, -5.0), "true_peak_dbtp": (-12.0, 0.0), "max_lra": (1.0, 30.0)}


@dataclass(frozen=True)
class Template:
    name: str
    folder: Path
    intro: Path
    outro: Path
    bed: Path | None
    ident: Path | None  # short sting between sections
    artwork: Path | None  # cover image for ID3 APIC
    bed_level_db: float
    intro_overlap_s: float
    outro_gap_s: float
    paragraph_gap_s: float
    section_gap_s: float
    rendition_targets: Mapping[str, Mapping[str, float]]  # rendition name -> target overrides

    def assets(self) -> tuple[Path, ...]:
        return tuple(p for p in (self.intro, self.outro, self.bed, self.ident, self.artwork) if p is not None)

    def fingerprint(self) -> str:
        """Changes whenever the template's settings or any of its audio files change."""
        digest = hashlib.sha256((self.folder / TEMPLATE_FILE).read_bytes())
        for asset in self.assets():
            digest.update(asset.name.encode("utf-8"))
            digest.update(asset.read_bytes())
        return digest.hexdigest()


def available_templates(templates_dir: Path) -> list[str]:
    if not templates_dir.is_dir():
        return []
    return sorted(p.name for p in templates_dir.iterdir() if (p / TEMPLATE_FILE).is_file())


def _number(data: dict[str, Any], key: str, default: float, path: Path, low: float, high: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"must be a number from {low} to {high}, got {value!r}", path=path, field=key)
    return float(value)


def _asset(folder: Path, data: dict[str, Any], key: str, path: Path, required: bool) -> Path | None:
    name = data.get(key)
    if name is None:
        if required:
            raise ConfigError("missing (required)", path=path, field=key)
        return None
    asset = (folder / str(name)).resolve()
    if folder.resolve() not in asset.parents:
        raise ConfigError(f"{name!r} is outside the template folder", path=path, field=key)
    if not asset.is_file():
        raise ConfigError(f"audio file {name!r} does not exist", path=asset, field=key)
    return asset


def load_template(templates_dir: Path, name: str) -> Template:
    folder = templates_dir / name
    path = folder / TEMPLATE_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"template {name!r} does not exist (no {path})", path=path) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", path=path) from None
    if not isinstance(data, dict):
        raise ConfigError("must be a set of 'key: value' lines", path=path)
    overrides = data.get("renditions", {})
    if not isinstance(overrides, dict) or not all(isinstance(v, dict) for v in overrides.values()):
        raise ConfigError("must map rendition names to target tables", path=path, field="renditions")
    targets: dict[str, dict[str, float]] = {}
    for name, table in overrides.items():
        unknown = set(table) - set(TARGET_KEYS)
        if unknown:
            raise ConfigError(
                f"unknown target {sorted(unknown)[0]!r} (known: {', '.join(TARGET_KEYS)})",
                path=path,
                field=f"renditions.{name}",
            )
        targets[str(name)] = {key: _number(table, key, 0.0, path, *TARGET_KEYS[key]) for key in table}
    intro = _asset(folder, data, "intro", path, required=True)
    outro = _asset(folder, data, "outro", path, required=True)
    assert intro is not None and outro is not None
    return Template(
        name=name,
        folder=folder,
        intro=intro,
        outro=outro,
        bed=_asset(folder, data, "bed", path, required=False),
        bed_level_db=_number(data, "bed_level_db", -18.0, path, -60, 0),
        intro_overlap_s=_number(data, "intro_overlap_s", 1.0, path, 0, 10),
        outro_gap_s=_number(data, "outro_gap_s", 0.8, path, 0, 10),
        paragraph_gap_s=_number(data, "paragraph_gap_s", 0.6, path, 0, 5),
        section_gap_s=_number(data, "section_gap_s", 1.2, path, 0, 10),
        ident=_asset(folder, data, "ident", path, required=False),
        artwork=_asset(folder, data, "artwork", path, required=False),
        rendition_targets=targets,
    )
