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
pub mod pools;
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

/// `cargo` (as `$CARGO` names it), for a build started from a test or
/// from a binary `cargo run` started: without the variables cargo gives the
/// processes it runs (`CARGO_MANIFEST_DIR`, `CARGO_PKG_*`, `OUT_DIR`, ...).
/// A build script that watches one (ring's watches `CARGO_MANIFEST_DIR` and
/// `CARGO_PKG_*`) would otherwise run again, and its crate and everything
/// above it be compiled again, in the next build from a plain shell (CI's
/// deploy build found ring compiled twice so).
pub fn cargo() -> std::process::Command {
    let mut c = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let given = name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_BIN_")
            || matches!(
                name,
                "CARGO_MANIFEST_DIR"
                    | "CARGO_MANIFEST_PATH"
                    | "CARGO_MANIFEST_LINKS"
                    | "CARGO_CRATE_NAME"
                    | "CARGO_PRIMARY_PACKAGE"
                    | "CARGO_TARGET_TMPDIR"
                    | "OUT_DIR"
            );
        if given {
            c.env_remove(name);
        }
    }
    c
}

/// The cargo profile the running binary was built with, and that profile's
/// output folder, read from where the binary lies: a test in
/// `target/<folder>/deps/`, a binary in `target/<folder>/` (`dev` builds into
/// `debug`). A test that builds more binaries builds them in its own profile,
/// so CI's one build (.ci/run builds its tests in `deploy`) serves it.
pub fn own_profile() -> (String, std::path::PathBuf) {
    let exe = std::env::current_exe().ok();
    let mut dir = exe.as_deref().and_then(std::path::Path::parent).map(std::path::Path::to_path_buf);
    if dir.as_deref().and_then(std::path::Path::file_name).is_some_and(|n| n == "deps") {
        dir = dir.and_then(|d| d.parent().map(std::path::Path::to_path_buf));
    }
    let dir = dir.unwrap_or_else(|| target_dir().join("debug"));
    let profile = match dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev".to_string(),
        Some(name) => name.to_string(),
    };
    (profile, dir)
}
