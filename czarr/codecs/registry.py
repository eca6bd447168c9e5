"""Codec registry: codec ids to classes. czarr's own codecs come first; any other id
falls back to numcodecs' registry when numcodecs is installed."""

from __future__ import annotations

from typing import Any

from czarr.codecs.abc import Codec
from czarr.errors import CodecError

codec_registry: dict[str, type[Codec]] = {}


def register_codec(cls: type[Codec], codec_id: str | None = None) -> None:
    """Register ``cls`` under ``codec_id`` (default: ``cls.codec_id``), replacing any class
    registered under that id."""
    if codec_id is None:
        codec_id = cls.codec_id
    if not codec_id:
        raise CodecError(f"{cls.__name__} has no codec_id")
    codec_registry[codec_id] = cls


def get_codec(config: Any) -> Any:
    """Return a codec for ``config`` (a dict with an ``id`` key).

    A codec object (czarr's or numcodecs') is returned unchanged. Ids czarr implements
    give czarr codecs; other ids are looked up in numcodecs' registry when numcodecs is
    importable.

    Raises
    ------
    czarr.errors.CodecError
        If the id is missing or no registry knows it.
    """
    if hasattr(config, "encode") and hasattr(config, "decode") and hasattr(
            config, "get_config"):
        return config
    params = dict(config)
    codec_id = params.pop("id", None)
    if codec_id is None:
        raise CodecError(f"codec configuration has no 'id': {config!r}")
    cls = codec_registry.get(codec_id)
    if cls is not None:
        return cls.from_config(params)
    try:
        import numcodecs
    except ImportError:
        raise CodecError(f"unknown codec {codec_id!r} (numcodecs is not installed, so "
                         "only czarr's codecs are available)") from None
    try:
        return numcodecs.get_codec({"id": codec_id, **params})
    except Exception as exc:
        raise CodecError(f"unknown codec {codec_id!r}: {exc}") from exc
