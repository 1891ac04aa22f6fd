//! The committed `include/ra.h` is what cbindgen makes of the sources now.
//!
//! Run with `RA_UPDATE_HEADER=1` to rewrite the header instead of failing.

use std::path::PathBuf;

fn header_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../include/ra.h")
}

/// The version macros, from Cargo.toml, and `RA_SIZED`.
fn version_macros() -> String {
    format!(
        "\n/** The version of the library this header belongs to (see `ra_version` for the loaded one). */\n\
         #define RA_VERSION \"{}\"\n\
         /** Major version of the library this header belongs to. */\n\
         #define RA_VERSION_MAJOR {}\n\
         /** Minor version of the library this header belongs to. */\n\
         #define RA_VERSION_MINOR {}\n\
         /** Patch version of the library this header belongs to. */\n\
         #define RA_VERSION_PATCH {}\n\n\
         /**\n \
          * An initialiser for the structs the library writes (or reads) with a\n \
          * `struct_size` first: that field set to `sizeof(type)`, every other zero.\n \
          * `ra_session_stats stats = RA_SIZED(ra_session_stats);`\n \
          */\n\
         #ifdef __cplusplus\n\
         #define RA_SIZED(type) ([] {{ type sized_{{}}; sized_.struct_size = sizeof(type); return sized_; }}())\n\
         #else\n\
         #define RA_SIZED(type) {{.struct_size = sizeof(type)}}\n\
         #endif\n",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_PATCH"),
    )
}

fn generate() -> String {
    let crate_dir = env!("CARGO_MANIFEST_DIR");
    let config = cbindgen::Config::from_file(format!("{crate_dir}/cbindgen.toml"))
        .expect("cbindgen.toml parses");
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        // cbindgen 0.29 cannot emit string constants, and the numbers must
        // follow Cargo.toml anyway: write the version macros from it.
        .with_after_include(version_macros())
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut out);
    String::from_utf8(out).expect("the header is UTF-8")
}

#[test]
fn committed_header_is_up_to_date() {
    let generated = generate();
    let path = header_path();
    if std::env::var_os("RA_UPDATE_HEADER").is_some() {
        std::fs::write(&path, &generated).expect("write include/ra.h");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/ra.h is out of date: run `RA_UPDATE_HEADER=1 cargo test -p ra-ffi --test header`"
    );
}

#[test]
fn header_version_macros_match_cargo_toml() {
    let header = std::fs::read_to_string(header_path()).expect("include/ra.h exists");
    for (name, value) in [
        (
            "RA_VERSION_MAJOR",
            env!("CARGO_PKG_VERSION_MAJOR").to_owned(),
        ),
        (
            "RA_VERSION_MINOR",
            env!("CARGO_PKG_VERSION_MINOR").to_owned(),
        ),
        (
            "RA_VERSION_PATCH",
            env!("CARGO_PKG_VERSION_PATCH").to_owned(),
        ),
        ("RA_VERSION", format!("\"{}\"", env!("CARGO_PKG_VERSION"))),
    ] {
        let line = format!("#define {name} {value}");
        assert!(
            header.lines().any(|l| l.trim() == line),
            "include/ra.h lacks `{line}`"
        );
    }
}
