"""The installed package version (one place, imported everywhere it is needed)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("skatomsets")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"
