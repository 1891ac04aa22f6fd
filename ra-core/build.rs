//! Compiles the wire protocols with protox, so no system `protoc` is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/ra.proto");
    println!("cargo:rerun-if-changed=proto/broker.proto");
    let descriptors = protox::compile(["proto/ra.proto", "proto/broker.proto"], ["proto"])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
