//! `cargo artifacts`: what Lambda runs. Every function of `infra/template.yaml`
//! built with the `deploy` profile (size-optimised, stripped) into
//! `target/lambda/<function>/bootstrap` and `bootstrap.zip`, the layout
//! cargo-lambda uses, and checked to run on Amazon Linux 2023: no binary may
//! need a glibc symbol version newer than the runtime's (2.34).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use object::{Object, ObjectSection};
use serde::Serialize;

use custops_local::template::{Placement, Template, TEMPLATE};
use custops_local::BoxError;

/// glibc of the `provided.al2023` runtime.
pub const AL2023_GLIBC: (u32, u32) = (2, 34);

#[derive(Debug, Clone, Serialize)]
pub struct Artifact {
    pub function: String,
    pub bootstrap: PathBuf,
    pub zip: PathBuf,
    pub bootstrap_bytes: u64,
    pub zip_bytes: u64,
    /// The newest `GLIBC_x.y` symbol version the binary needs (None: static).
    pub max_glibc: Option<(u32, u32)>,
}

pub use custops_local::{target_dir, workspace};

/// The deploy tool (aws-sam-cli), pinned with every
/// dependency, compiled in so the CLI installs exactly these.
pub const DEPLOY_REQUIREMENTS: &str = include_str!("../../../infra/deploy-requirements.txt");

/// `cargo deploy-tools`: installs the pinned deploy tools into
/// `.custops/deploy-venv` (once; again when the pins change) and returns its
/// `bin/`, which puts `sam` on PATH.
pub fn deploy_tools() -> Result<PathBuf, BoxError> {
    let python = custops_local::emulator::ensure_venv("deploy", "the pinned deploy tool (sam)", DEPLOY_REQUIREMENTS)?;
    Ok(python.parent().map(Path::to_path_buf).unwrap_or_default())
}

/// The function binaries the template deploys.
pub fn functions() -> Result<Vec<String>, BoxError> {
    let t = Template::parse(TEMPLATE, &Placement::local(""))?;
    Ok(t.functions().into_iter().map(|f| f.binary).collect())
}

/// Builds, lays out, zips and checks every function. `target`: a Rust target
/// triple (e.g. `aarch64-unknown-linux-gnu` for arm64), default the host.
pub fn build(target: Option<&str>) -> Result<Vec<Artifact>, BoxError> {
    let functions = functions()?;
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.current_dir(workspace()).args(["build", "--locked", "--profile", "deploy"]);
    for f in &functions {
        cargo.args(["--package", f]);
    }
    if let Some(t) = target {
        cargo.args(["--target", t]);
    }
    let status = cargo.status()?;
    if !status.success() {
        return Err(format!("cargo build --profile deploy failed: {status}").into());
    }
    let out_dir = match target {
        Some(t) => target_dir().join(t).join("deploy"),
        None => target_dir().join("deploy"),
    };
    let mut artifacts = Vec::new();
    for f in functions {
        let dir = target_dir().join("lambda").join(&f);
        fs::create_dir_all(&dir)?;
        let bootstrap = dir.join("bootstrap");
        fs::copy(out_dir.join(&f), &bootstrap)?;
        let bytes = fs::read(&bootstrap)?;
        let zip = dir.join("bootstrap.zip");
        zip_bootstrap(&bytes, &zip)?;
        let max_glibc = max_glibc(&bytes)?;
        artifacts.push(Artifact {
            function: f,
            bootstrap_bytes: bytes.len() as u64,
            zip_bytes: fs::metadata(&zip)?.len(),
            bootstrap,
            zip,
            max_glibc,
        });
    }
    Ok(artifacts)
}

/// `bootstrap.zip` with one executable entry, as Lambda wants it.
fn zip_bootstrap(bytes: &[u8], path: &Path) -> Result<(), BoxError> {
    let mut zip = zip::ZipWriter::new(fs::File::create(path)?);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o755);
    zip.start_file("bootstrap", options)?;
    zip.write_all(bytes)?;
    zip.finish()?;
    Ok(())
}

/// The newest `GLIBC_x.y` version a dynamically linked ELF needs, read from
/// its dynamic string table (where the version-needed names live).
pub fn max_glibc(elf: &[u8]) -> Result<Option<(u32, u32)>, BoxError> {
    let file = object::File::parse(elf)?;
    let Some(dynstr) = file.section_by_name(".dynstr") else { return Ok(None) };
    let data = dynstr.data()?;
    Ok(data
        .split(|b| *b == 0)
        .filter_map(|s| std::str::from_utf8(s).ok()?.strip_prefix("GLIBC_"))
        .filter_map(|v| {
            let mut parts = v.split('.');
            Some((parts.next()?.parse().ok()?, parts.next().unwrap_or("0").parse().ok()?))
        })
        .max())
}

/// Errors for every artifact that needs a newer glibc than AL2023 has.
pub fn check_glibc(artifacts: &[Artifact]) -> Result<(), String> {
    let too_new: Vec<String> = artifacts
        .iter()
        .filter_map(|a| {
            let (major, minor) = a.max_glibc?;
            ((major, minor) > AL2023_GLIBC)
                .then(|| format!("{} needs GLIBC_{major}.{minor}, newer than Amazon Linux 2023's 2.34", a.function))
        })
        .collect();
    if too_new.is_empty() {
        Ok(())
    } else {
        Err(too_new.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_glibc_check_reads_this_test_binarys_own_needs() {
        let me = fs::read(std::env::current_exe().unwrap()).unwrap();
        let (major, minor) = max_glibc(&me).unwrap().expect("a dynamically linked test binary");
        assert_eq!(major, 2);
        assert!(minor >= 2);
    }

    #[test]
    fn a_binary_needing_a_newer_glibc_fails_the_check() {
        let a = |v| Artifact {
            function: "f".into(),
            bootstrap: PathBuf::new(),
            zip: PathBuf::new(),
            bootstrap_bytes: 0,
            zip_bytes: 0,
            max_glibc: Some(v),
        };
        assert!(check_glibc(&[a((2, 34))]).is_ok());
        assert!(check_glibc(&[a((2, 35))]).unwrap_err().contains("GLIBC_2.35"));
    }
}
