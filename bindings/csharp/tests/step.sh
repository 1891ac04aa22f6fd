# The C# binding's step of the C API tests (Mono).
# Sourced by ra-ffi/tests/run.sh, which provides $root (the working tree),
# $lib (where libra_ffi.so and ra-broker are), $out (scratch), the compiler
# flags (warn, sanitize, link) and example_ran; with_broker, with_xvfb,
# with_witness and with_incompatible_library set RA_TEST_BROKER*, DISPLAY,
# RA_TEST_WITNESS and RA_TEST_INCOMPATIBLE_LIBRARY.

# Ra.csproj, without a dotnet SDK: well-formed, the package's metadata there,
# its Version the library's (RA_VERSION), the native library packed where
# .NET looks for it.
csharp_csproj() {
    python3 - bindings/csharp/Ra.csproj include/ra.h <<'EOF'
import re, sys, xml.etree.ElementTree as ET
project = ET.parse(sys.argv[1]).getroot()
version = re.search(r'#define RA_VERSION "([^"]+)"', open(sys.argv[2]).read()).group(1)
props = {e.tag: (e.text or "").strip() for group in project.iter("PropertyGroup") for e in group}
problems = []
for key, want in [("TargetFramework", "net8.0"), ("PackageId", "Ra"), ("Version", version),
                  ("PackageLicenseExpression", "MIT OR Apache-2.0")]:
    if props.get(key) != want:
        problems.append("%s is %r, not %r" % (key, props.get(key), want))
for key in ("Authors", "Description"):
    if not props.get(key):
        problems.append(key + " is missing")
if not props.get("RaNativeLibrary", "").endswith("../../target/release/libra_ffi.so"):
    problems.append("RaNativeLibrary does not default to ../../target/release/libra_ffi.so")
packed = [e for e in project.iter("None") if e.get("Include") == "$(RaNativeLibrary)"
          and e.get("Pack") == "true" and e.get("PackagePath") == "runtimes/linux-x64/native/libra_ffi.so"]
if not packed:
    problems.append("the native library is not packed as runtimes/linux-x64/native/libra_ffi.so")
for p in problems:
    print("Ra.csproj: " + p)
print("Ra.csproj: %d passed, %d failed (version %s; dotnet pack not run here)" % (1 - min(1, len(problems)), min(1, len(problems)), version))
sys.exit(1 if problems else 0)
EOF
}

# The library says 99.0.0: every use of the binding is refused, naming both versions.
csharp_incompatible() {
    local output version range
    version=$(sed -n 's/^#define RA_VERSION "\(.*\)"/\1/p' include/ra.h)
    range=$(sed -n 's/^#define RA_VERSION_MAJOR //p' include/ra.h)
    if [ "$range" = 0 ]; then range=0.$(sed -n 's/^#define RA_VERSION_MINOR //p' include/ra.h).x; else range=$range.x; fi
    output=$(LD_LIBRARY_PATH=$(dirname "$RA_TEST_INCOMPATIBLE_LIBRARY") timeout 60 mono "$out/RaTests.exe" incompatible 2>&1)
    local status=$?
    echo "$output"
    [ $status = 0 ] &&
        grep -qxF "Ra.IncompatibleLibraryException: incompatible libra_ffi: the C# binding Ra $version needs libra_ffi $range, but the library loaded is version 99.0.0" <<<"$output" ||
        { echo "C#: the incompatible library was not refused as it should be"; return 1; }
}

csharp() {
    # -doc with -warnaserror: every public item has its /// comment.
    mcs -nologo -warnaserror -doc:"$out/Ra.xml" -target:library -out:"$out/Ra.dll" bindings/csharp/src/*.cs &&
        mcs -nologo -warnaserror -out:"$out/RaTests.exe" -r:"$out/Ra.dll" bindings/csharp/tests/*.cs &&
        mcs -nologo -out:"$out/RaExample.exe" bindings/csharp/src/*.cs bindings/csharp/examples/Program.cs &&
        csharp_csproj &&
        LD_LIBRARY_PATH=$lib MONO_PATH=$out mono "$out/RaTests.exe" &&
        csharp_incompatible &&
        example_ran "C#" env LD_LIBRARY_PATH="$lib" mono "$out/RaExample.exe"
}
