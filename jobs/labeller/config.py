"""The labeller's configuration: everything it reads from outside its own code, in one picklable value.

Built from ``ecoute.settings.Settings`` where the run starts (the Spark driver, a command) and passed
to the labeller; Spark ships it to the executors with the function that labels, as it ships the
sink's config. Nothing in the labeller reads the environment or the settings itself.

    config = LabellerConfig.from_settings(settings)          # reads the newest published centring now
    labeller = get_labeller(config)                          # one per process and config
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ecoute.settings import Settings
    from jobs.labeller.centring import CentringStats

CentringMode = Literal["published", "own"]
_OFF = ("off", "0", "false", "no")


@dataclass(frozen=True)
class LabellerConfig:
    """What a labeller needs to know; frozen and picklable (sent to Spark executors)."""

    state_dir: Path  # what the labeller learns: models built from feedback, published centrings
    cache_dir: Path  # compiled rule patterns
    embed_cache: Path | None  # the embeddings' disk cache, None: off
    centring: CentringMode = "published"
    encoder_engine: str = "onnx"  # see Settings.encoder_engine
    # The published centring as read when the config was made (None: none published yet, the
    # model's prior alone): the same snapshot for every process the config reaches.
    published: CentringStats | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, centring: CentringMode = "published") -> LabellerConfig:
        """The config of ``settings``; ``published`` reads the newest published centring now."""
        cache_dir = settings.cache_dir or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ecoute"
        embed = (settings.embed_cache or "").strip()
        config = cls(
            state_dir=settings.labeller_dir or Path(settings.state_dir) / "labeller",
            cache_dir=cache_dir,
            # one cache file per engine: their vectors agree only within a tolerance
            embed_cache=None
            if embed.lower() in _OFF
            else Path(embed)
            if embed
            else cache_dir / embed_cache_file(settings.encoder_engine),
            centring=centring,
            encoder_engine=settings.encoder_engine,
        )
        return config.with_published_centring() if centring == "published" else config

    @property
    def model_dir(self) -> Path:
        return self.state_dir / "models"

    @property
    def centring_dir(self) -> Path:
        return self.state_dir / "centring"

    @property
    def centring_version(self) -> str | None:
        return self.published.version if self.published is not None else None

    def with_published_centring(self) -> LabellerConfig:
        """This config with the newest published centring, read now."""
        from dataclasses import replace

        from jobs.labeller.centring import newest_centring

        return replace(self, centring="published", published=newest_centring(self.centring_dir))

    def key(self) -> tuple[object, ...]:
        """What tells two configs apart (the published stats by their version)."""
        return (
            self.state_dir,
            self.cache_dir,
            self.embed_cache,
            self.centring,
            self.centring_version,
            self.encoder_engine,
        )

    def describe(self) -> str:
        if self.centring == "own":
            return "centring on the texts labelled (in memory)"
        if self.published is None:
            return "centring on the model's prior (no centring published yet)"
        return f"published centring {self.published.version}"


def embed_cache_file(engine: str) -> str:
    return f"e5-small-{engine}-embeddings.sqlite"


@lru_cache(maxsize=1)
def default_config() -> LabellerConfig:
    """The settings' directories, for what runs before any labeller is configured (no centring read)."""
    from ecoute.settings import get_settings

    return LabellerConfig.from_settings(get_settings(), centring="own")


__all__ = ["CentringMode", "LabellerConfig", "default_config", "embed_cache_file"]
