//! `custops-dev`: the development tools, apart from the operator's `custops`
//! binary. `cargo artifacts`, `cargo deploy-tools` and `cargo chaos` run it.
// Every function's futures, run in-process by the local stack, nest deeper
// than the compiler's default layout depth.
#![recursion_limit = "256"]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use custops_dev::BoxError;

#[derive(Parser)]
#[command(name = "custops-dev", version, about = "custops development tools: the deploy build, the chaos run")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Builds every function for Lambda (provided.al2023): target/lambda/<function>/bootstrap(.zip).
    Artifacts {
        /// The functions' architecture (the template's `Architecture`): on
        /// the other kind of machine, the cross toolchain is installed first.
        #[arg(long, value_enum, default_value = "arm64")]
        arch: custops_dev::arch::Arch,
    },
    /// What `sam deploy` would upload: every CodeUri zip holds an executable
    /// `bootstrap` of the architecture the functions declare (`--arch`, else
    /// infra/samconfig.toml's `Architecture=`, else the template's default).
    DeployCheck {
        #[arg(long, value_enum)]
        arch: Option<custops_dev::arch::Arch>,
    },
    /// Installs the pinned deploy tool (sam) into .custops/deploy-venv and prints how to use it.
    DeployTools,
    /// Tries the promise hard: N mixed events, each delivered 1-3 times, with
    /// AWS failing the functions' calls at a rate; counts what must be zero.
    Chaos {
        #[arg(long, default_value_t = 1000)]
        events: usize,
        /// The share of the functions' AWS calls that fail (0 to 1).
        #[arg(long, default_value_t = 0.05)]
        fault_rate: f64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also write the counts as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // Chaos counts the failures it causes; the functions' own logs would drown them.
    custops::telemetry::init_cli(if matches!(cli.command, Command::Chaos { .. }) { "off" } else { "warn" });
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("custops-dev: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), BoxError> {
    match cli.command {
        Command::Chaos { events, fault_rate, seed, json } => {
            if !(0.0..=1.0).contains(&fault_rate) {
                return Err("--fault-rate is a share between 0 and 1".into());
            }
            let run = custops_dev::chaos::ChaosRun { events, fault_rate, seed, progress: true };
            let report = custops_dev::chaos::run(&run).await?;
            let mix: Vec<String> = report.fault_mix.iter().map(|(k, n)| format!("{n} {k}")).collect();
            println!(
                "{} deliveries in {:.0} s; faults: {}; {} dead letters; {} texts sent",
                report.deliveries,
                report.seconds,
                if mix.is_empty() { "none".to_owned() } else { mix.join(", ") },
                report.dead_letters,
                report.texts_sent
            );
            if let Some(file) = json {
                std::fs::write(file, serde_json::to_string_pretty(&report)?)?;
            }
            for (reason, n) in &report.dead_letter_reasons {
                println!("  {n} dead letter(s): {reason}");
            }
            if !report.lost_events.is_empty() {
                println!("lost: {}", report.lost_events.join(", "));
            }
            println!("{}", report.line());
            if report.held() {
                Ok(())
            } else {
                Err("a promise did not hold".into())
            }
        }
        Command::DeployTools => {
            let bin = tokio::task::spawn_blocking(custops_dev::artifacts::deploy_tools)
                .await
                .map_err(|e| e.to_string())??;
            println!("deploy tools ready: sam (pinned in infra/deploy-requirements.txt)");
            println!("export PATH=\"{}:$PATH\"", bin.display());
            Ok(())
        }
        Command::DeployCheck { arch } => {
            let infra = custops_dev::artifacts::workspace().join("infra");
            let arch = match arch {
                Some(a) => a,
                None => {
                    let samconfig = std::fs::read_to_string(infra.join("samconfig.toml")).ok();
                    custops_dev::artifacts::declared_arch(samconfig.as_deref())?
                }
            };
            let n = custops_dev::artifacts::deploy_check(&infra, arch)?;
            println!(
                "deploy-check: {n} function zips, each an executable {} bootstrap, as sam deploy uploads them",
                arch.name()
            );
            Ok(())
        }
        Command::Artifacts { arch } => {
            let artifacts = tokio::task::spawn_blocking(move || custops_dev::artifacts::build(arch))
                .await
                .map_err(|e| e.to_string())??;
            println!("{:<16} {:>12} {:>12}  max GLIBC", "function", "bootstrap", "zip");
            for a in &artifacts {
                let glibc = a.max_glibc.map(|(x, y)| format!("{x}.{y}")).unwrap_or_else(|| "static".into());
                println!(
                    "{:<16} {:>10} B {:>10} B  {glibc}  {}",
                    a.function,
                    a.bootstrap_bytes,
                    a.zip_bytes,
                    a.zip.display()
                );
            }
            custops_dev::artifacts::check_glibc(&artifacts)?;
            println!("every binary is {} and runs on Amazon Linux 2023 (glibc <= 2.34)", arch.name());
            Ok(())
        }
    }
}
