//! Gives `libra_ffi.so` its SONAME, `libra_ffi.so.MAJOR`: programs linked
//! against it then load the same major version only (the version's file
//! names are made by `install.sh`).

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" {
        let major = env!("CARGO_PKG_VERSION_MAJOR");
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libra_ffi.so.{major}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
