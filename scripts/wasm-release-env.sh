# Sourced before every release build of wasm that ships or is measured (`make build`, `make bench`, the
# KDF cross-check in `make test`). It rebuilds Rust's standard library with the Worker's own profile
# instead of linking the precompiled one, and makes a panic a bare trap:
#
#   -Zbuild-std=std,panic_abort   core/alloc/std compiled at our opt-level "z" and LTO'd with our code
#                                 (the precompiled ones are opt-level 3): -6 KB gzipped
#   -Cpanic=immediate-abort       no panic message formatting, locations or backtrace printer:
#                                 -13 KB gzipped. A panic already aborted the instance (`panic = "abort"`),
#                                 so behaviour is the same; only the message in `wrangler tail` is lost.
#
# Both flags are unstable. They are used with the pinned stable compiler (rust-toolchain.toml) through
# RUSTC_BOOTSTRAP=1, scoped to these builds only, so one compiler builds, lints and tests everything. A
# pinned nightly would do the same, but the rustup mirror here carries only some nightlies' components.
# The pin is what keeps this reproducible: a newer compiler may rename the flags.
#
# EDGE_AUTH_PRECOMPILED_STD=1 builds with the precompiled std instead (bigger: 169 KB gzipped
# against 154 KB, measured when this was written), the
# escape hatch if a toolchain ever lacks rust-src.
#
# CARGO_TARGET_<triple>_RUSTFLAGS replaces .cargo/config.toml's flags for wasm32, so SIMD is repeated here.
if [[ "${EDGE_AUTH_PRECOMPILED_STD:-}" != 1 ]]; then
  export RUSTC_BOOTSTRAP=1
  export CARGO_UNSTABLE_BUILD_STD=std,panic_abort
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Ctarget-feature=+simd128 -Zunstable-options -Cpanic=immediate-abort"
fi
