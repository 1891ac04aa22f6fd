"""The package's version and the check of the loaded library against it.

This module needs no library: :class:`IncompatibleLibraryError` can be
raised before ``libra_ffi.so`` is usable, and stays importable (as
``ra._version.IncompatibleLibraryError``) after ``import ra`` failed."""

from __future__ import annotations

from typing import Optional, Tuple

__version__ = "0.1.0"
"""The version of this package; the C header it mirrors is ``RA_VERSION``."""


class IncompatibleLibraryError(ImportError):
    """The ``libra_ffi.so`` that was loaded is of a version this package
    cannot use (another major version, or before 1.0 another minor one).

    ``package_version``, ``library_version`` and ``library_path`` say which."""

    def __init__(self, package_version: str, library_version: str, library_path: str) -> None:
        self.package_version = package_version
        self.library_version = library_version
        self.library_path = library_path
        super().__init__(
            f"the ra Python package {package_version} cannot use libra_ffi {library_version} "
            f"loaded from {library_path}: it needs a libra_ffi {_wanted(package_version)} "
            f"(set RA_LIBRARY to the path of a matching libra_ffi.so, or install the "
            f"package built with it)")


def _parse(version: str) -> Optional[Tuple[int, int, int]]:
    parts = version.split("-", 1)[0].split("+", 1)[0].split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1]), int(parts[2])


def _wanted(package_version: str) -> str:
    parsed = _parse(package_version)
    if parsed is None:
        return package_version
    major, minor, _ = parsed
    return f"{major}.{minor}.x" if major == 0 else f"{major}.x"


def compatible(package_version: str, library_version: str) -> bool:
    """Whether a library of ``library_version`` serves a package of
    ``package_version``: the same major version and, while it is 0, the same
    minor version (before 1.0 a minor version may change the ABI)."""
    package, library = _parse(package_version), _parse(library_version)
    if package is None or library is None or package[0] != library[0]:
        return False
    return package[0] != 0 or package[1] == library[1]
