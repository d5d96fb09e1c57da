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

use crate::arch::Arch;
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

/// Builds, lays out, zips and checks every function for `arch`: on a
/// machine of that architecture with cargo alone, on the other with
/// cargo-zigbuild (installed and pinned by [`crate::arch::cross_toolchain`]),
/// linked against Amazon Linux 2023's glibc.
pub fn build(arch: Arch) -> Result<Vec<Artifact>, BoxError> {
    let functions = functions()?;
    let native = Arch::host() == Some(arch);
    let mut cargo = if native {
        let mut c = custops_local::cargo();
        c.arg("build");
        c
    } else {
        let (path, zigbuild) = crate::arch::cross_toolchain(arch, &custops_local::emulator::home())?;
        let mut c = Command::new(zigbuild);
        let old = std::env::var_os("PATH").unwrap_or_default();
        c.env("PATH", std::env::join_paths(path.iter().cloned().chain(std::env::split_paths(&old)))?);
        c.args(["zigbuild", "--target", &format!("{}.{}.{}", arch.triple(), AL2023_GLIBC.0, AL2023_GLIBC.1)]);
        c
    };
    cargo.current_dir(workspace()).args(["--locked", "--profile", "deploy"]);
    for f in &functions {
        cargo.args(["--package", f]);
    }
    let status = cargo.status()?;
    if !status.success() {
        return Err(format!("the deploy build for {} failed: {status}", arch.name()).into());
    }
    let out_dir = if native { target_dir().join("deploy") } else { target_dir().join(arch.triple()).join("deploy") };
    let mut artifacts = Vec::new();
    for f in functions {
        let dir = target_dir().join("lambda").join(&f);
        fs::create_dir_all(&dir)?;
        let bootstrap = dir.join("bootstrap");
        fs::copy(out_dir.join(&f), &bootstrap)?;
        let bytes = fs::read(&bootstrap)?;
        if crate::arch::arch_of(&bytes) != Some(arch) {
            return Err(format!("{f}: the build is not a {} binary", arch.name()).into());
        }
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
        // The best deflate (zlib's level 9): about 3.5% smaller than the
        // default level for a second more a zip (docs/benchmarks.md).
        .compression_level(Some(9))
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

/// The architecture the deploy declares: `Architecture=` of the parameter
/// overrides in `samconfig` (infra/samconfig.toml), else the template's default.
pub fn declared_arch(samconfig: Option<&str>) -> Result<Arch, BoxError> {
    let overridden = samconfig.and_then(|s| {
        s.lines()
            .filter(|l| l.trim_start().starts_with("parameter_overrides"))
            .find_map(|l| l.split("Architecture=").nth(1))
            .map(|v| {
                v.split(|c: char| c == '"' || c == '\'' || c.is_whitespace()).next().unwrap_or_default().to_owned()
            })
    });
    let name = match overridden {
        Some(n) => n,
        None => {
            let t = Template::parse(TEMPLATE, &Placement::local(""))?;
            t.parameters["Architecture"]["Default"].as_str().unwrap_or_default().to_owned()
        }
    };
    Arch::parse(&name).ok_or_else(|| format!("Architecture {name:?} is neither arm64 nor x86_64").into())
}

/// The deploy check: every function's `CodeUri` (relative to `infra`) is a
/// zip with one executable `bootstrap`, an ELF binary of `arch`, as `sam
/// deploy` will upload it. Refuses any other (a zip of the other
/// architecture would deploy and then fail every invocation).
pub fn deploy_check(infra: &Path, arch: Arch) -> Result<usize, String> {
    let t = Template::parse(TEMPLATE, &Placement::local("")).map_err(|e| e.to_string())?;
    let mut problems = Vec::new();
    let mut checked = 0;
    for r in t.of_type("AWS::Serverless::Function") {
        let Some(uri) = r.properties["CodeUri"].as_str() else { continue };
        match bootstrap_in(&infra.join(uri)) {
            Ok(bytes) => match crate::arch::arch_of(&bytes) {
                Some(a) if a == arch => checked += 1,
                Some(a) => problems.push(format!(
                    "{uri}: the binary is {}, but the functions run on {}",
                    a.name(),
                    arch.name()
                )),
                None => problems.push(format!("{uri}: bootstrap is not a Linux binary")),
            },
            Err(e) => problems.push(format!("{uri}: {e} (run cargo artifacts --arch {} first)", arch.name())),
        }
    }
    if problems.is_empty() {
        Ok(checked)
    } else {
        Err(problems.join("\n"))
    }
}

/// The executable `bootstrap` of a Lambda zip.
fn bootstrap_in(zip: &Path) -> Result<Vec<u8>, BoxError> {
    let mut archive = zip::ZipArchive::new(fs::File::open(zip)?)?;
    let mut entry = archive.by_name("bootstrap")?;
    if entry.unix_mode().is_none_or(|m| m & 0o100 == 0) {
        return Err("bootstrap is not executable".into());
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut entry, &mut bytes)?;
    Ok(bytes)
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

    #[test]
    fn the_deploy_check_refuses_zips_of_the_other_architecture() {
        let dir = std::env::temp_dir().join(format!("custops-deploy-check-{}", std::process::id()));
        let infra = dir.join("infra");
        fs::create_dir_all(&infra).unwrap();
        let me = fs::read(std::env::current_exe().unwrap()).unwrap();
        let host = Arch::host().unwrap();
        let other = if host == Arch::Arm64 { Arch::X86_64 } else { Arch::Arm64 };
        let t = Template::parse(TEMPLATE, &Placement::local("")).unwrap();
        let uris: Vec<String> = t
            .of_type("AWS::Serverless::Function")
            .map(|r| r.properties["CodeUri"].as_str().unwrap().to_owned())
            .collect();
        assert!(uris.len() >= 14);
        for uri in &uris {
            let path = infra.join(uri);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            zip_bootstrap(&me, &path).unwrap();
        }
        assert_eq!(deploy_check(&infra, host), Ok(uris.len()));
        let refused = deploy_check(&infra, other).unwrap_err();
        assert_eq!(refused.lines().count(), uris.len(), "{refused}");
        assert!(refused.contains(&format!("the binary is {}, but the functions run on {}", host.name(), other.name())));
        // One zip of the other architecture among the right ones is refused too.
        let mut foreign = me.clone();
        foreign[18..20].copy_from_slice(&other.elf_machine().to_le_bytes());
        zip_bootstrap(&foreign, &infra.join(&uris[0])).unwrap();
        assert_eq!(deploy_check(&infra, host).unwrap_err().lines().count(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_declared_architecture_is_samconfigs_override_else_the_templates_default() {
        assert_eq!(declared_arch(None).unwrap(), Arch::Arm64);
        let samconfig = "[default.deploy.parameters]\nparameter_overrides = \"Architecture=x86_64 LogLevel=info\"\n";
        assert_eq!(declared_arch(Some(samconfig)).unwrap(), Arch::X86_64);
        assert!(declared_arch(Some("parameter_overrides = \"Architecture=sparc\"")).is_err());
    }
}
