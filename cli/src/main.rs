//! `custops`: the operator CLI and the local stack.
// Every function's futures, run in-process by the local stack, nest deeper
// than the compiler's default layout depth.
#![recursion_limit = "256"]

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Parser, Subcommand};
use custops::model::TaskOutcome;
use custops::{Clock, PinnedClock, SharedClock, SystemClock};
use custops_cli::commands::{self, Target};
use custops_cli::emulator::{self, Emulator};
use custops_cli::local::{LocalOptions, LocalStack};
use custops_cli::replay;
use custops_cli::BoxError;

#[cfg(test)]
mod docs_commands;

#[derive(Parser)]
#[command(name = "custops", version, about = "custops: one customer record for sales, service and the BDC")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct Conn {
    /// AWS API endpoint (the local emulator); without it, real AWS.
    #[arg(long, env = "AWS_ENDPOINT_URL", global = true)]
    endpoint: Option<String>,
    /// The CloudFormation stack name the resources were deployed with.
    #[arg(long, env = "CUSTOPS_STACK", default_value = "custops", global = true)]
    stack: String,
}

/// A listing of one store's (or every store's) records.
#[derive(clap::Args, Clone)]
struct View {
    #[arg(long)]
    store: Option<String>,
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    conn: Conn,
}

#[derive(Subcommand)]
enum Command {
    /// The local stack: emulator, resources and pollers.
    Local {
        #[command(subcommand)]
        command: LocalCommand,
    },
    /// Store configurations.
    Store {
        #[command(subcommand)]
        command: StoreCommand,
        #[command(flatten)]
        conn: Conn,
    },
    /// What custops did (or, in shadow mode, would have done) for a store over some days.
    Value {
        #[arg(long)]
        store: String,
        #[arg(long)]
        from: NaiveDate,
        #[arg(long)]
        to: NaiveDate,
        #[arg(long)]
        json: bool,
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// As of when (what is still open; default: now).
        #[arg(long, value_name = "RFC3339")]
        at: Option<DateTime<Utc>>,
        #[command(flatten)]
        conn: Conn,
    },
    /// A store's history from its DMS (JSON Lines of envelopes, or CSV): records only, nothing texted.
    Import {
        #[arg(long)]
        store: String,
        file: PathBuf,
        #[command(flatten)]
        conn: Conn,
    },
    /// The DMS feed's files: a DMS export put in the feed bucket, and what the feed took.
    Feed {
        #[command(subcommand)]
        command: FeedCommand,
        #[command(flatten)]
        conn: Conn,
    },
    /// Households: two customers' records made one (section 14).
    Household {
        #[command(subcommand)]
        command: HouseholdCommand,
        #[command(flatten)]
        conn: Conn,
    },
    /// Staff who sign in to the inbox (the HTTP API's /app/ pages).
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
        #[command(flatten)]
        conn: Conn,
    },
    /// A store's webhook secrets (the HTTP front door), in AWS Secrets Manager.
    Secrets {
        #[command(subcommand)]
        command: SecretsCommand,
        #[command(flatten)]
        conn: Conn,
    },
    /// Outbound texts, newest last.
    Texts {
        #[command(flatten)]
        view: View,
    },
    /// One customer's record and every touchpoint.
    Timeline {
        phone: String,
        #[command(flatten)]
        view: View,
    },
    /// Open tasks, due first.
    Tasks {
        /// Only this owner's.
        #[arg(long)]
        owner: Option<String>,
        #[command(flatten)]
        view: View,
    },
    /// A task a person worked.
    Task {
        #[command(subcommand)]
        command: TaskCommand,
    },
    /// The GM morning report for a day.
    Report {
        /// The store (or `--group`).
        #[arg(long, required_unless_present = "group", conflicts_with = "group")]
        store: Option<String>,
        /// Every store side by side (or those of `--stores`), ranked by revenue at risk, with a total.
        #[arg(long)]
        group: bool,
        /// With `--group`: only these stores (comma separated).
        #[arg(long, requires = "group", value_delimiter = ',')]
        stores: Option<Vec<String>>,
        /// The store-local day (YYYY-MM-DD).
        #[arg(long)]
        date: NaiveDate,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
        /// Also write it as one self-contained HTML page.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// When the report is made (what is open and overdue is as of then; default: now).
        #[arg(long, value_name = "RFC3339")]
        at: Option<DateTime<Utc>>,
        /// Also mail the page (its text as the plain part) to these addresses, through SES.
        #[arg(long, value_name = "ADDR[,ADDR]", value_delimiter = ',')]
        mail: Option<Vec<String>>,
        /// The mail's sender: the deploy's verified `ReportSender` (locally: the local stack's).
        #[arg(long, value_name = "ADDR", env = "CUSTOPS_REPORT_SENDER")]
        from: Option<String>,
        #[command(flatten)]
        conn: Conn,
    },
    /// What failed and why; `--redrive` sends it back for another try.
    Dlq {
        #[arg(long)]
        redrive: bool,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        conn: Conn,
    },
    /// What the stack still lacks to serve a store: one line per check,
    /// with the command that mends it; exit 0 when nothing is missing.
    Doctor {
        /// Only this store (default: every store).
        #[arg(long)]
        store: Option<String>,
        /// One JSON object per check.
        #[arg(long)]
        json: bool,
        /// The deploy's `ReportSender` (locally: the local stack's).
        #[arg(long, value_name = "ADDR", env = "CUSTOPS_REPORT_SENDER")]
        from: Option<String>,
        #[command(flatten)]
        conn: Conn,
    },
    /// Builds nothing, starts a private emulator, replays events/ and prints what customers received.
    Demo {
        /// Folder of sample stores and events.
        #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../events"))]
        events: PathBuf,
    },
}

#[derive(Subcommand)]
enum LocalCommand {
    /// Start the emulator, create the resources of infra/template.yaml, run the pollers.
    Up {
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// The HTTP API's loopback port (0, the default: a free one).
        #[arg(long, default_value_t = 0)]
        http_port: u16,
        /// Pin the clock every function sees (default: real time).
        #[arg(long)]
        now: Option<DateTime<Utc>>,
        /// Run the real Lambda binaries from here (e.g. target/lambda after `cargo artifacts`)
        /// through a local Lambda Runtime API, instead of the function code in-process.
        #[arg(long)]
        bootstrap_dir: Option<PathBuf>,
        /// DynamoDB's transaction conflicts, as on AWS: each TransactWriteItems holds its items
        /// for MS milliseconds, and another touching one of them meanwhile is cancelled with
        /// TransactionConflict (0, the default: writes serialised).
        #[arg(long, value_name = "MS", default_value_t = 0)]
        conflicts: u64,
    },
    /// Fire every scheduled function once, as EventBridge would at that time.
    Tick {
        #[arg(long)]
        at: Option<DateTime<Utc>>,
        #[command(flatten)]
        conn: Conn,
    },
    /// Write the SMS delivery-status record SNS would for a sent text (MESSAGE_ID:
    /// the emulator's message id of the SMS, as `texts --json` shows it) and
    /// deliver it as the log group's subscription filter does.
    Receipt {
        message_id: String,
        #[arg(long, value_parser = ["SUCCESS", "FAILURE"])]
        status: String,
        /// The carrier's words (default for SUCCESS: "Message has been accepted by phone carrier").
        #[arg(long)]
        response: Option<String>,
        /// When SNS recorded it (default: a second after the text went).
        #[arg(long)]
        at: Option<DateTime<Utc>>,
        /// Another number in the record than the text went to (E.164), to
        /// rehearse a record that is not what it seems.
        #[arg(long)]
        destination: Option<String>,
        /// The log group it is written to (default: failure for FAILURE,
        /// delivery for SUCCESS); the other one rehearses a misplaced record.
        #[arg(long, value_parser = ["delivery", "failure"])]
        group: Option<String>,
        #[command(flatten)]
        conn: Conn,
    },
}

#[derive(Subcommand)]
enum TaskCommand {
    /// Close a task, with what happened (booked, reached, no_answer, declined).
    Done {
        task_id: String,
        #[arg(long)]
        store: String,
        /// The customer's number.
        #[arg(long, required_unless_present = "email", conflicts_with = "email")]
        phone: Option<String>,
        /// The mail address of a lead that came without a number.
        #[arg(long)]
        email: Option<String>,
        #[arg(long, default_value = "reached", value_parser = ["booked", "reached", "no_answer", "declined", "done_elsewhere", "sold"])]
        outcome: String,
        #[command(flatten)]
        conn: Conn,
    },
}

#[derive(Subcommand)]
enum StoreCommand {
    /// Create or replace a store's configuration.
    Put { file: PathBuf },
}

#[derive(Subcommand)]
enum FeedCommand {
    /// Puts a file (JSON Lines snapshots or CSV) in the feed bucket under the store's folder.
    Put {
        #[arg(long)]
        store: String,
        file: PathBuf,
    },
    /// The files the feed has taken for a store, with their counts and skipped rows.
    Status {
        #[arg(long)]
        store: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum HouseholdCommand {
    /// Links two customers' records at a store as one household (each must
    /// have a record; consent and texts stay each person's).
    Link {
        /// A customer's number (any format).
        a: String,
        /// The other's.
        b: String,
        #[arg(long)]
        store: String,
    },
}

#[derive(Subcommand)]
enum StaffCommand {
    /// A staff sign-in (Cognito) working for a store on some teams; an
    /// existing user gets the store and teams added.
    Add {
        #[arg(long)]
        store: String,
        #[arg(long)]
        email: String,
        /// Owner ids of the store config (`owners`), comma separated: whose tasks they work.
        #[arg(long)]
        teams: String,
        /// Sees and assigns every task of their stores; told of escalations.
        #[arg(long)]
        manager: bool,
        /// Set this password for good (else Cognito mails a temporary one).
        #[arg(long, env = "CUSTOPS_STAFF_PASSWORD")]
        password: Option<String>,
        /// Their alerts of this store (new and escalated tasks of their
        /// teams) by text or mail: `sms:+15125550100` or `email:ana@example.com`.
        #[arg(long)]
        alerts: Option<String>,
    },
    /// Takes a store from a user; every session of theirs ends at once (with
    /// no store left, the user is disabled).
    Remove {
        #[arg(long)]
        store: String,
        #[arg(long)]
        email: String,
    },
    /// Who signs in for a store: their teams, manager or not, TOTP, enabled.
    List {
        #[arg(long)]
        store: String,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum SecretsCommand {
    /// Write `custops/{store}/webhooks`: a JSON object with any of
    /// signing_secret, twilio_auth_token, ringcentral_verification_token.
    Put {
        #[arg(long)]
        store: String,
        file: PathBuf,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The demo reports its own expected failures.
    custops::telemetry::init_cli(if matches!(cli.command, Command::Demo { .. }) { "off" } else { "warn" });
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("custops: {e}");
            ExitCode::FAILURE
        }
    }
}

fn require_endpoint(conn: &Conn) -> Result<&str, BoxError> {
    conn.endpoint
        .as_deref()
        .ok_or_else(|| "this command needs --endpoint (or AWS_ENDPOINT_URL) of a local stack".into())
}

async fn run(cli: Cli) -> Result<(), BoxError> {
    match cli.command {
        Command::Local { command: LocalCommand::Up { port, http_port, now, bootstrap_dir, conflicts } } => {
            local_up(port, http_port, now, bootstrap_dir, std::time::Duration::from_millis(conflicts)).await
        }
        Command::Local { command: LocalCommand::Tick { at, conn } } => {
            let endpoint = require_endpoint(&conn)?;
            let clock: SharedClock = Arc::new(PinnedClock::at(at.unwrap_or_else(Utc::now)));
            let stack = LocalStack::connect(endpoint, clock).await?;
            let fired = stack.tick().await?;
            if fired.is_empty() {
                println!("no scheduled functions in infra/template.yaml");
            }
            for (function, report) in fired {
                println!("{function}: {report}");
            }
            Ok(())
        }
        Command::Local {
            command: LocalCommand::Receipt { message_id, status, response, at, destination, group, conn },
        } => {
            let endpoint = require_endpoint(&conn)?;
            let target = Target::new(Some(endpoint), &conn.stack).await?;
            let failed = status == "FAILURE";
            let (record, at) = commands::receipt_record(
                &target,
                endpoint,
                &message_id,
                failed,
                response.as_deref(),
                at,
                destination.as_deref(),
            )
            .await?;
            let clock: SharedClock = Arc::new(PinnedClock::at(at));
            let stack = LocalStack::connect(endpoint, clock).await?;
            let to_failure = group.map_or(failed, |g| g == "failure");
            let group = sms_receipts::log_group(custops::aws::LOCAL_REGION, custops::aws::LOCAL_ACCOUNT, to_failure);
            for report in stack.deliver_logs(&group, &[record]).await? {
                println!("receipt {message_id} ({status}) to {group}: {report}");
            }
            Ok(())
        }
        Command::Secrets { command: SecretsCommand::Put { store, file }, conn } => {
            let target = Target::new(conn.endpoint.as_deref(), &conn.stack).await?;
            let keys = commands::secrets_put(&target, &store, &file).await?;
            println!("stored custops/{store}/webhooks ({})", keys.join(", "));
            Ok(())
        }
        Command::Value { store, from, to, json, html, at, conn } => {
            let target = Target::new(conn.endpoint.as_deref(), &conn.stack).await?;
            let v = custops_cli::value::value(&target, &store, from, to, at.unwrap_or_else(Utc::now)).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                print!("{}", v.text());
            }
            if let Some(file) = html {
                std::fs::write(&file, custops_cli::value::render(&v)?)?;
                eprintln!("wrote {}", file.display());
            }
            Ok(())
        }
        Command::Import { store, file, conn } => {
            let target = Target::new(conn.endpoint.as_deref(), &conn.stack).await?;
            // The rows to come (lines), for the bar; the file is then read as a stream.
            let lines = std::io::BufRead::lines(std::io::BufReader::new(std::fs::File::open(&file)?)).count();
            let bar = indicatif::ProgressBar::new(lines.saturating_sub(1).max(1) as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {per_sec}  eta {eta}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let clock: SharedClock = Arc::new(SystemClock);
            let (counts, bad) =
                custops_cli::import::import(&target, &store, &file, clock, |done| bar.set_position(done as u64))
                    .await?;
            bar.finish_and_clear();
            for b in &bad {
                eprintln!("line {}: {}", b.line, b.reason);
            }
            println!("imported {}, unchanged {}, skipped {}", counts.imported, counts.unchanged, counts.skipped);
            Ok(())
        }
        Command::Feed { command: FeedCommand::Put { store, file }, conn } => {
            let target = Target::new(conn.endpoint.as_deref(), &conn.stack).await?;
            let key = custops_cli::feed::put(&target, &store, &file).await?;
            println!("put {key}; `custops feed status --store {store}` shows it once taken");
            Ok(())
        }
        Command::Feed { command: FeedCommand::Status { store, json }, conn } => {
            let target = Target::new(conn.endpoint.as_deref(), &conn.stack).await?;
            let files = custops_cli::feed::status(&target, &store).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&files)?);
            } else {
                print!("{}", custops_cli::feed::render(&files));
            }
            Ok(())
        }
        Command::Household { command: HouseholdCommand::Link { a, b, store }, conn } => {
            let target = Target::new(conn.endpoint.as_deref(), &conn.stack).await?;
            commands::household_link(&target, &store, &a, &b, Arc::new(SystemClock)).await?;
            println!("linked: one household at {store}; `custops timeline {a} --store {store}` shows it");
            Ok(())
        }
        Command::Staff { command: StaffCommand::Add { store, email, teams, manager, password, alerts }, conn } => {
            let target = Target::new(conn.endpoint.as_deref(), &conn.stack).await?;
            let user = custops_cli::staff::add_with_alerts(
                &target,
                &store,
                &email,
                &teams,
                manager,
                password.as_deref(),
                alerts.as_deref(),
            )
            .await?;
            println!(
                "staff {} {}: stores {}; at {store}: teams {}{}{}{}",
                user.email,
                if user.created { "added" } else { "updated" },
                user.stores.join(","),
                user.teams.join(","),
                if user.manager { ", manager" } else { "" },
                user.alerts.as_deref().map(|a| format!(", alerts {a}")).unwrap_or_default(),
                if password.is_none() && user.created { " (Cognito mails a temporary password)" } else { "" }
            );
            Ok(())
        }
        Command::Staff { command: StaffCommand::Remove { store, email }, conn } => {
            let target = Target::new(conn.endpoint.as_deref(), &conn.stack).await?;
            let r = custops_cli::staff::remove(&target, &store, &email).await?;
            println!(
                "staff {} {}: sessions ended {}; stores left {}{}{}",
                r.email,
                if r.had_store { format!("removed from {store}") } else { format!("did not work at {store}") },
                r.sessions_ended,
                if r.stores.is_empty() { "none".to_owned() } else { r.stores.join(",") },
                if r.disabled { " (disabled)" } else { "" },
                if r.unsubscribed { "; alerts ended" } else { "" }
            );
            Ok(())
        }
        Command::Staff { command: StaffCommand::List { store, json }, conn } => {
            let target = Target::new(conn.endpoint.as_deref(), &conn.stack).await?;
            for p in custops_cli::staff::list(&target, &store).await? {
                if json {
                    println!("{}", serde_json::to_string(&p)?);
                } else {
                    println!(
                        "{}\tteams {}\t{}\tmfa {}\t{}\talerts {}",
                        p.email,
                        p.teams.join(","),
                        if p.manager { "manager" } else { "staff" },
                        if p.mfa { "on" } else { "off" },
                        if p.enabled { "enabled" } else { "disabled" },
                        p.alerts.as_deref().unwrap_or("none")
                    );
                }
            }
            Ok(())
        }
        Command::Store { command: StoreCommand::Put { file }, conn } => {
            let target = Target::new(conn.endpoint.as_deref(), &conn.stack).await?;
            let (store, warnings) = commands::store_put(&target, &file).await?;
            for w in &warnings {
                eprintln!("warning: {w}");
            }
            println!("stored {} ({})", store.store_id, store.name);
            Ok(())
        }
        Command::Texts { view } => {
            let target = Target::new(view.conn.endpoint.as_deref(), &view.conn.stack).await?;
            commands::print_texts(&commands::texts(&target, view.store.as_deref()).await?, view.json);
            Ok(())
        }
        Command::Timeline { phone, view } => {
            let target = Target::new(view.conn.endpoint.as_deref(), &view.conn.stack).await?;
            commands::timeline(&target, &phone, view.store.as_deref(), view.json).await
        }
        Command::Tasks { owner, view } => {
            let target = Target::new(view.conn.endpoint.as_deref(), &view.conn.stack).await?;
            let tasks = commands::tasks(&target, view.store.as_deref(), owner.as_deref()).await?;
            commands::print_tasks(&tasks, view.json, &commands::zones(&target).await?);
            Ok(())
        }
        Command::Task { command: TaskCommand::Done { task_id, store, phone, email, outcome, conn } } => {
            let phone = phone.or(email).unwrap_or_default();
            let target = Target::new(conn.endpoint.as_deref(), &conn.stack).await?;
            let outcome = TaskOutcome::parse(&outcome).unwrap_or(TaskOutcome::Reached);
            commands::task_done(&target, &store, &phone, &task_id, outcome, Arc::new(SystemClock)).await?;
            println!("task {task_id} done ({})", outcome.as_str());
            Ok(())
        }
        Command::Report { store: None, group: true, stores, date, json, html, at, mail, from, conn } => {
            let target = Target::new(conn.endpoint.as_deref(), &conn.stack).await?;
            let (reports, total) =
                commands::group_report(&target, stores.as_deref(), date, at.unwrap_or_else(Utc::now)).await?;
            if json {
                let out = serde_json::json!({ "date": date, "stores": reports, "total": total });
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                print!("{}", custops_cli::report_page::group_text(date, &reports, &total));
            }
            if let Some(file) = html {
                std::fs::write(&file, custops_cli::report_page::render_group(date, &reports, &total)?)?;
                eprintln!("wrote {}", file.display());
            }
            if let Some(to) = mail {
                let mail = custops::report::mail::ReportMail {
                    subject: format!("The group's morning report, {}", date.format("%a %-d %b %Y")),
                    text: custops_cli::report_page::group_text(date, &reports, &total),
                    html: custops_cli::report_page::render_group(date, &reports, &total)?,
                    to,
                };
                let id = commands::mail_report(&target, from.as_deref(), mail).await?;
                eprintln!("mailed (SES message {id})");
            }
            Ok(())
        }
        Command::Report { store, date, json, html, at, mail, from, conn, .. } => {
            let target = Target::new(conn.endpoint.as_deref(), &conn.stack).await?;
            let store = store.ok_or("--store S, or --group")?;
            let (report, history) = commands::report(&target, &store, date, at.unwrap_or_else(Utc::now)).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("{report}");
            }
            if let Some(file) = html {
                std::fs::write(&file, custops_cli::report_page::render(&report, &history)?)?;
                eprintln!("wrote {}", file.display());
            }
            if let Some(to) = mail {
                let mail = custops::report::mail::ReportMail {
                    subject: daily_report::subject(&report),
                    text: report.to_string(),
                    html: custops_cli::report_page::render(&report, &history)?,
                    to,
                };
                let id = commands::mail_report(&target, from.as_deref(), mail).await?;
                eprintln!("mailed (SES message {id})");
            }
            Ok(())
        }
        Command::Dlq { redrive, json, conn } => {
            let target = Target::new(conn.endpoint.as_deref(), &conn.stack).await?;
            let letters = commands::dlq(&target, redrive).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&letters)?);
            } else if letters.is_empty() {
                println!("every dead-letter queue is empty");
            } else {
                for l in &letters {
                    println!(
                        "{}  {}  event {}  [{}] {}",
                        l.queue,
                        l.message_id,
                        l.event_id.as_deref().unwrap_or("?"),
                        l.kind,
                        l.reason
                    );
                }
                if redrive {
                    println!("sent {} message(s) back to their queues", letters.len());
                }
            }
            Ok(())
        }
        Command::Doctor { store, json, from, conn } => {
            let target = Target::new(conn.endpoint.as_deref(), &conn.stack).await?;
            let from =
                from.or_else(|| conn.endpoint.as_ref().map(|_| custops_local::local::LOCAL_REPORT_SENDER.to_owned()));
            let checks = custops_cli::doctor::doctor(&target, store.as_deref(), from.as_deref()).await?;
            for c in &checks {
                if json {
                    println!("{}", serde_json::to_string(c)?);
                } else {
                    println!("{}", c.line());
                }
            }
            if custops_cli::doctor::healthy(&checks) {
                Ok(())
            } else {
                let n = checks.iter().filter(|c| c.status == custops_cli::doctor::Status::Missing).count();
                Err(format!("{n} thing(s) missing").into())
            }
        }
        Command::Demo { events } => demo(&events).await,
    }
}

async fn local_up(
    port: u16,
    http_port: u16,
    now: Option<DateTime<Utc>>,
    bootstrap_dir: Option<PathBuf>,
    conflicts: std::time::Duration,
) -> Result<(), BoxError> {
    let emulator = Emulator::start_with(
        port,
        emulator::EmulatorOptions { tx_conflict_window: Some(conflicts), ..Default::default() },
    )
    .await?;
    let clock: SharedClock = match now {
        Some(t) => Arc::new(PinnedClock::at(t)),
        None => Arc::new(SystemClock),
    };
    // The HTTP API's port is chosen first: staff alerts link to it.
    let http_port = match http_port {
        0 => std::net::TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port(),
        p => p,
    };
    let options = LocalOptions {
        bootstrap_dir,
        public_base_url: Some(format!("http://127.0.0.1:{http_port}")),
        ..Default::default()
    };
    let stack = Arc::new(LocalStack::provision(&emulator.endpoint, clock, options).await?);
    let http = stack.serve_http(http_port).await?;
    println!(
        "custops local stack ready endpoint {} http {} (export AWS_ENDPOINT_URL={})",
        emulator.endpoint, http.url, emulator.endpoint
    );
    let shutdown = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
        }
    };
    stack.run_pollers(shutdown).await;
    emulator.stop().await;
    eprintln!("custops local stack stopped");
    Ok(())
}

async fn demo(dir: &std::path::Path) -> Result<(), BoxError> {
    let emulator = Emulator::start(0).await?;
    let clock = PinnedClock::at(replay::first_event_time(dir)?.unwrap_or_else(Utc::now));
    let stack = LocalStack::provision(&emulator.endpoint, Arc::new(clock.clone()), LocalOptions::default()).await?;
    let target = Target::new(Some(&emulator.endpoint), "custops").await?;
    println!("custops demo: local AWS emulator at {}", emulator.endpoint);
    let before = emulator::sent_sms(&emulator.endpoint).await?.len();
    // Every event, each a few seconds after it happened, the scheduled
    // functions every morning between them, and 31 mornings after the last.
    let released = replay::replay(&stack, &clock, &target, dir, None, |line| println!("{line}")).await?;
    println!(
        "tick   every morning between and after the events (local tick) -> {} follow-up(s), {} deferred text(s), {} lapsed customer(s) handed to win-back",
        released.follow_ups, released.sent, released.lapsed
    );
    let sms = emulator::sent_sms(&emulator.endpoint).await?;
    println!("\nWhat customers received ({} texts):", sms.len() - before);
    for m in &sms[before..] {
        println!("  to {}: {}", m.phone_number, m.message);
    }
    // The people's side: every task still open at the end, due first.
    let tasks = commands::tasks(&target, Some("northside-chevy"), None).await?;
    println!("\nOpen tasks for the store's people ({}; `custops tasks` lists them):", tasks.len());
    commands::print_tasks(&tasks, false, &commands::zones(&target).await?);
    let letters = commands::dlq(&target, false).await?;
    println!("\nDead-letter queues ({} messages; `custops dlq` lists them):", letters.len());
    for l in &letters {
        println!("  {}", l.reason);
    }
    // The GM's report of the scenario's Monday, as `custops report` prints it,
    // made at the end of the demo's clock; and its page.
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).ok_or("a date")?;
    let (report, history) = commands::report(&target, "northside-chevy", day, clock.now()).await?;
    println!("\n`custops report --store northside-chevy --date {day}`:\n{report}");
    let page = custops_local::target_dir().join("demo-report.html");
    std::fs::write(&page, custops_cli::report_page::render(&report, &history)?)?;
    println!("\nThe same as a page: {}", page.display());
    demo_caller(&target, "+15125550172", clock.now()).await?;
    demo_feed(&stack, &target, dir, clock.now()).await?;
    emulator.stop().await;
    Ok(())
}

/// The caller page's first screen (section 14): what the inbox shows at
/// `GET /app/caller?number=...` when the customer calls, before anyone says
/// hello (the household read as the page reads it).
async fn demo_caller(target: &Target, number: &str, now: DateTime<Utc>) -> Result<(), BoxError> {
    let Some(store) = target.table.get_store("northside-chevy").await? else { return Ok(()) };
    let customer = custops::CustomerId::new(&store.store_id, custops::Phone::parse(number)?);
    let timeline = target.table.timeline(&customer).await?;
    if timeline.state.profile.is_none() {
        return Ok(());
    }
    let mut household = Vec::new();
    for m in &timeline.state.household {
        let id = custops::CustomerId::new(&store.store_id, m.member.clone());
        household.push((id.clone(), target.table.customer_state(&id).await?));
    }
    println!("\nThe caller, before hello (`GET /app/caller?number={number}` in the inbox, what the phone opens):");
    for (k, v) in staff_inbox::first_screen(&store, &customer, &timeline, &household, now) {
        println!("  {k:<17} {v}");
    }
    Ok(())
}

/// The DMS feed's two doors (`events/feed/`): the store's morning as a CSV
/// export put in the feed bucket, then the same snapshots from a connector,
/// signed to `POST /hooks/{store}/dms`: the second door finds every one
/// unchanged.
async fn demo_feed(
    stack: &LocalStack,
    target: &Target,
    dir: &std::path::Path,
    now: DateTime<Utc>,
) -> Result<(), BoxError> {
    let feed = dir.join("feed");
    if !feed.is_dir() {
        return Ok(());
    }
    println!("\nThe DMS feed (`custops feed put`, then `POST /hooks/northside-chevy/dms`):");
    let key = custops_cli::feed::put(target, "northside-chevy", &feed.join("northside-morning.csv")).await?;
    stack.run_until_idle(std::time::Duration::from_secs(60)).await?;
    let secrets = replay::secret_files(dir)?;
    let (_, file) = secrets.iter().find(|(s, _)| s == "northside-chevy").ok_or("no secret for northside-chevy")?;
    let secret: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(file)?)?;
    let secret = secret["signing_secret"].as_str().ok_or("no signing_secret")?;
    let body = std::fs::read(feed.join("northside-morning.jsonl"))?;
    let http = stack.serve_http(0).await?;
    let mut request = reqwest::Client::new().post(format!("{}/hooks/northside-chevy/dms", http.url));
    for (name, value) in front_door::signed::headers(secret, now.timestamp(), &body) {
        request = request.header(name, value);
    }
    let answer = request.body(body).send().await?;
    println!("  {key}: put; the connector's JSON Lines: {} {}", answer.status().as_u16(), answer.text().await?);
    stack.run_until_idle(std::time::Duration::from_secs(60)).await?;
    print!("{}", custops_cli::feed::render(&custops_cli::feed::status(target, "northside-chevy").await?));
    Ok(())
}
