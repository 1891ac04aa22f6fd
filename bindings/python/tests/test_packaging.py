"""The package as installed: its version against pyproject.toml, ra.h and
the loaded library; which library it loaded; and the refusal of an
incompatible one (``RA_TEST_INCOMPATIBLE_LIBRARY``, the fake 99.0.0 library
that ra-ffi/tests/run.sh builds)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import ra

BINDING = Path(__file__).resolve().parent.parent
ROOT = Path(os.environ.get("RA_TEST_ROOT", BINDING.parent.parent))


def pyproject_version() -> str:
    text = (BINDING / "pyproject.toml").read_text()
    try:
        import tomllib
        return tomllib.loads(text)["project"]["version"]
    except ImportError:  # Python < 3.11
        return re.search(r'^version = "([^"]+)"', text, re.M).group(1)


def test_versions_agree():
    header = (ROOT / "include" / "ra.h").read_text()
    ra_version = re.search(r'^#define RA_VERSION "([^"]+)"', header, re.M).group(1)
    assert ra.__version__ == pyproject_version() == ra.library_version() == ra_version
    assert ra.version() == ra.library_version()


def test_the_library_is_the_one_asked_for():
    loaded = Path(ra.library_path())
    assert loaded.is_file()
    explicit = os.environ.get("RA_LIBRARY")
    if explicit:
        assert loaded == Path(explicit).resolve()
    else:
        # Installed from the wheel: the copy inside the package, not the tree's.
        package = Path(ra.__file__).resolve().parent
        assert loaded == (package / "libra_ffi.so").resolve()
        assert "LD_LIBRARY_PATH" not in os.environ
        assert not str(package).startswith(str(BINDING / "src"))


def test_compatibility_rule():
    assert ra.compatible("0.1.0", "0.1.9")
    assert not ra.compatible("0.1.0", "0.2.0")
    assert not ra.compatible("0.1.0", "1.1.0")
    assert ra.compatible("1.2.0", "1.7.3")
    assert not ra.compatible("1.2.0", "2.0.0")
    assert not ra.compatible("0.1.0", "not a version")


def import_in_subprocess(library: str) -> dict:
    code = r"""
import json, sys
try:
    import ra
except ImportError as error:
    from ra._version import IncompatibleLibraryError
    print(json.dumps({"type": type(error).__name__, "import_error": True,
                      "incompatible": isinstance(error, IncompatibleLibraryError),
                      "message": str(error),
                      "versions": [getattr(error, "package_version", None),
                                   getattr(error, "library_version", None)],
                      "path": getattr(error, "library_path", None)}))
except OSError as error:
    print(json.dumps({"type": type(error).__name__, "message": str(error)}))
else:
    print(json.dumps({"type": None}))
"""
    env = dict(os.environ, RA_LIBRARY=library)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=60, cwd=str(Path(__file__).parent))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_an_incompatible_library_is_refused():
    fake = os.environ.get("RA_TEST_INCOMPATIBLE_LIBRARY")
    if not fake:
        pytest.skip("RA_TEST_INCOMPATIBLE_LIBRARY is not set (ra-ffi/tests/run.sh sets it)")
    outcome = import_in_subprocess(fake)
    assert outcome["type"] == "IncompatibleLibraryError"
    assert outcome["import_error"] and outcome["incompatible"]
    assert outcome["versions"] == [ra.__version__, "99.0.0"]
    assert outcome["path"] == str(Path(fake).resolve())
    for part in (ra.__version__, "99.0.0", str(Path(fake).resolve()), "RA_LIBRARY"):
        assert part in outcome["message"]


def test_a_missing_library_says_where_it_looked(tmp_path):
    missing = str(tmp_path / "no" / "libra_ffi.so")
    outcome = import_in_subprocess(missing)
    assert outcome["type"] == "OSError"
    assert missing in outcome["message"] and "RA_LIBRARY" in outcome["message"]
