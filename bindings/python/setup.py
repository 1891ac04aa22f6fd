"""Builds the ra package with libra_ffi.so inside it: a platform wheel.

The library comes from $RA_FFI_LIBRARY (a path to libra_ffi.so), else from
the workspace this package lives in: target/release/libra_ffi.so, then
target/debug/libra_ffi.so. Without one the build stops and says so. The
metadata is in pyproject.toml."""

import os
import shutil
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
WORKSPACE = HERE.parent.parent


def find_library() -> Path:
    explicit = os.environ.get("RA_FFI_LIBRARY")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise SystemExit(f"error: RA_FFI_LIBRARY={explicit} is not a file")
        return path
    tried = []
    for profile in ("release", "debug"):
        path = WORKSPACE / "target" / profile / "libra_ffi.so"
        if path.is_file():
            return path
        tried.append(str(path))
    raise SystemExit("error: no libra_ffi.so to put in the package: build it "
                     "(cargo build -p ra-ffi [--release]) or set RA_FFI_LIBRARY to its path "
                     "(tried " + ", ".join(tried) + ")")


class BuildPy(build_py):
    """Copies the library (its contents, not a link) next to the modules."""

    def run(self) -> None:
        super().run()
        source = find_library()
        target = Path(self.build_lib) / "ra" / "libra_ffi.so"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        os.chmod(target, 0o755)
        print(f"ra: bundled {source} as {target}")


class BinaryDistribution(Distribution):
    """The package carries a native library: the wheel is platform-specific."""

    def has_ext_modules(self) -> bool:
        return True


commands = {"build_py": BuildPy}
try:
    from wheel.bdist_wheel import bdist_wheel

    class BdistWheel(bdist_wheel):
        """py3-none-<platform>: any Python 3, no Python ABI (ctypes), one platform."""

        def finalize_options(self) -> None:
            super().finalize_options()
            self.root_is_pure = False

        def get_tag(self):
            _, _, platform = super().get_tag()
            return "py3", "none", platform

    commands["bdist_wheel"] = BdistWheel
except ImportError:  # only needed to build wheels; pip brings it
    pass

setup(cmdclass=commands, distclass=BinaryDistribution)
