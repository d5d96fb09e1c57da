//! The local stack `custops local up` runs, as a library so the operator CLI,
//! the development tools and the cross-function tests drive exactly the same
//! thing: the template reader ([`template`]), the pinned AWS emulator
//! ([`emulator`], moto with the fixes in `moto_server.py`), the resources and
//! Lambda's event-source pollers ([`local`]), the function registry
//! ([`registry`]: every function's code, in-process) and a Lambda Runtime API
//! for the real binaries ([`runtime_api`]).
// Every function's futures, run in-process by the local stack, nest deeper
// than the compiler's default layout depth.
#![recursion_limit = "256"]

pub mod emulator;
pub mod local;
pub mod registry;
pub mod runtime_api;
pub mod template;

/// Any error the local stack reports.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The workspace this was built from.
pub fn workspace() -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::canonicalize(&root).unwrap_or(root)
}

/// Cargo's target directory for the workspace.
pub fn target_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| workspace().join("target"))
}
