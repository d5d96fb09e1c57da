//! The architecture Lambda runs the functions on (the template's
//! `Architecture`, default `arm64`), the toolchain that builds for it from
//! either kind of machine, and the check that a zip holds a binary of it.
//!
//! Building for the machine's own architecture needs nothing more. For the
//! other one, `cargo artifacts --arch` installs what it needs itself, each
//! pinned: the target's standard library (`rustup target add`), zig as the
//! cross linker and C compiler (PyPI's `ziglang`, `infra/zig-requirements.txt`,
//! in `.custops/zig-venv`) and cargo-zigbuild ([`CARGO_ZIGBUILD`], in
//! `.custops/tools`), which also pins the glibc the binaries link against
//! to Amazon Linux 2023's.

use std::path::{Path, PathBuf};
use std::process::Command;

use custops_local::BoxError;

/// cargo-zigbuild, pinned.
pub const CARGO_ZIGBUILD: &str = "0.24.1";
/// zig, pinned (PyPI's `ziglang`).
pub const ZIG_REQUIREMENTS: &str = include_str!("../../../infra/zig-requirements.txt");

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Arch {
    #[value(name = "arm64")]
    Arm64,
    #[value(name = "x86_64")]
    X86_64,
}

impl Arch {
    /// As the template's `Architecture` names it.
    pub fn name(self) -> &'static str {
        match self {
            Arch::Arm64 => "arm64",
            Arch::X86_64 => "x86_64",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "arm64" => Some(Arch::Arm64),
            "x86_64" => Some(Arch::X86_64),
            _ => None,
        }
    }

    /// The Rust target of `provided.al2023` on it.
    pub fn triple(self) -> &'static str {
        match self {
            Arch::Arm64 => "aarch64-unknown-linux-gnu",
            Arch::X86_64 => "x86_64-unknown-linux-gnu",
        }
    }

    /// The ELF header's `e_machine` of its binaries (EM_AARCH64, EM_X86_64).
    pub fn elf_machine(self) -> u16 {
        match self {
            Arch::Arm64 => 183,
            Arch::X86_64 => 62,
        }
    }

    /// This machine's.
    pub fn host() -> Option<Self> {
        match std::env::consts::ARCH {
            "aarch64" => Some(Arch::Arm64),
            "x86_64" => Some(Arch::X86_64),
            _ => None,
        }
    }
}

/// The architecture an ELF binary is for, from its header (none: not an
/// ELF binary of either).
pub fn arch_of(elf: &[u8]) -> Option<Arch> {
    if elf.len() < 20 || &elf[..4] != b"\x7fELF" || elf[5] != 1 {
        return None;
    }
    let machine = u16::from_le_bytes([elf[18], elf[19]]);
    [Arch::Arm64, Arch::X86_64].into_iter().find(|a| a.elf_machine() == machine)
}

/// What building for `arch` on this machine needs, installed: the target's
/// standard library, zig and cargo-zigbuild. Returns the folders to put on
/// `PATH` (zig's venv, cargo-zigbuild's) and cargo-zigbuild itself.
pub fn cross_toolchain(arch: Arch, home: &Path) -> Result<(Vec<PathBuf>, PathBuf), BoxError> {
    let installed = Command::new("rustup").args(["target", "list", "--installed"]).output()?;
    if !String::from_utf8_lossy(&installed.stdout).lines().any(|l| l.trim() == arch.triple()) {
        eprintln!("cargo artifacts: rustup target add {}", arch.triple());
        let status = Command::new("rustup").args(["target", "add", arch.triple()]).status()?;
        if !status.success() {
            return Err(format!("rustup target add {} failed: {status}", arch.triple()).into());
        }
    }
    let python = custops_local::emulator::ensure_venv("zig", "zig, the cross linker (ziglang)", ZIG_REQUIREMENTS)?;
    let zig_bin = python.parent().map(Path::to_path_buf).unwrap_or_default();
    let root = home.join("tools");
    let zigbuild = root.join("bin").join("cargo-zigbuild");
    let version = Command::new(&zigbuild).arg("--version").output().ok();
    let pinned = version.is_some_and(|v| String::from_utf8_lossy(&v.stdout).contains(CARGO_ZIGBUILD));
    if !pinned {
        eprintln!("cargo artifacts: installing cargo-zigbuild {CARGO_ZIGBUILD} into {}", root.display());
        let status = custops_local::cargo()
            .args(["install", "cargo-zigbuild", "--locked", "--version", &format!("={CARGO_ZIGBUILD}"), "--root"])
            .arg(&root)
            .status()?;
        if !status.success() {
            return Err(format!("installing cargo-zigbuild failed: {status}").into());
        }
    }
    Ok((vec![zig_bin, root.join("bin")], zigbuild))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machine_of_an_elf_header_is_read_and_anything_else_is_none() {
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert_eq!(arch_of(&me), Arch::host());
        let mut arm = me[..64].to_vec();
        arm[18..20].copy_from_slice(&183u16.to_le_bytes());
        assert_eq!(arch_of(&arm), Some(Arch::Arm64));
        assert_eq!(arch_of(b"#!/bin/sh\necho not a binary\n"), None);
        assert_eq!(arch_of(&me[..10]), None);
    }
}
