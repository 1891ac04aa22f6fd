# The C# binding's step of the C API tests (Mono).
# Sourced by ra-ffi/tests/run.sh, which provides $root (the working tree),
# $lib (where libra_ffi.so and ra-broker are), $out (scratch), the compiler
# flags (warn, sanitize, link) and example_ran; with_broker, with_xvfb and
# with_witness set RA_TEST_BROKER*, DISPLAY and RA_TEST_WITNESS.

csharp() {
    mcs -nologo -warnaserror -target:library -out:"$out/Ra.dll" bindings/csharp/src/*.cs &&
        mcs -nologo -out:"$out/RaTests.exe" -r:"$out/Ra.dll" bindings/csharp/tests/SessionTests.cs &&
        mcs -nologo -out:"$out/RaExample.exe" bindings/csharp/src/*.cs bindings/csharp/examples/Program.cs &&
        LD_LIBRARY_PATH=$lib mono "$out/RaTests.exe" &&
        example_ran "C#" env LD_LIBRARY_PATH="$lib" mono "$out/RaExample.exe"
}
