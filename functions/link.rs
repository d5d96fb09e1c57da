//! How a function's binary is linked for Lambda: the build script of every
//! function crate (`build = "../link.rs"` in its Cargo.toml). Link arguments
//! only, and only for the binaries of an optimised build (what `cargo
//! artifacts` zips): the dependencies are compiled exactly as the tests'
//! build compiles them (.ci/run), and the tests' unoptimised binaries are
//! linked as before.
//!
//! - `-no-pie`: a position-dependent executable, as Go links its Lambda
//!   functions by default. A position-independent one carries a dynamic
//!   relocation for every pointer in its read-only data (about 1.4 MB of
//!   `.rela.dyn` in the inbox's 12 MB binary) that the loader applies at
//!   every cold start; without them each zip is about 6% smaller. The
//!   stack, the heap and the C library stay randomised; what is given up is
//!   the executable's own base address (docs/security.md says why that is
//!   acceptable for memory-safe code in Lambda's one-tenant microVM).
//! - `--icf=all` (identical code folding: generic code that compiled to the
//!   same bytes is kept once), where the linker is rustc's own `rust-lld`
//!   (x86_64 Linux with no other linker configured). About 2.5% of a zip.
//!   zig's linker (the arm64 cross build) does not take it.

fn main() {
    println!("cargo:rerun-if-changed=../link.rs");
    let var = |name: &str| std::env::var(name).ok();
    let optimised = var("OPT_LEVEL").is_some_and(|level| level != "0");
    if !optimised || var("CARGO_CFG_TARGET_OS").as_deref() != Some("linux") {
        return;
    }
    println!("cargo:rustc-link-arg-bins=-no-pie");
    if var("TARGET").as_deref() == Some("x86_64-unknown-linux-gnu") && var("RUSTC_LINKER").is_none() {
        println!("cargo:rustc-link-arg-bins=-Wl,--icf=all");
    }
}
