//! Compiles every contract under `proto/` into Rust, in pure Rust (protox: no system protoc),
//! and writes the descriptor set that the services serve through gRPC reflection.

use std::path::PathBuf;

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    println!("cargo:rerun-if-changed={}", proto_root.display());

    let files = [
        "xinfang/v1/petition.proto",
        "xinfang/v1/routing.proto",
        "xinfang/v1/timeline.proto",
        "xinfang/intake/v1/events.proto",
        "xinfang/intake/v1/intake.proto",
        "xinfang/intake/v1/submission.proto",
        "xinfang/routing/v1/events.proto",
        "xinfang/routing/v1/routing.proto",
        "xinfang/supervision/v1/events.proto",
        "xinfang/supervision/v1/supervision.proto",
        "xinfang/statistics/v1/statistics.proto",
    ];
    let descriptors = protox::compile(files, [&proto_root])?;

    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("xinfang_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;

    // Every message knows its full protobuf name (`prost::Name`): an event's `ce-type` is
    // derived from it, never spelled by hand.
    let mut config = prost_build::Config::new();
    config.enable_type_names();
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds_with_config(descriptors, config)?;
    Ok(())
}
