//! Every command the README and docs/ print runs as written: each `custops`
//! line of their shell blocks is parsed by the CLI's own parser (a synopsis's
//! `[...]` taken in, `a|b` as its first choice, CAPITAL placeholders filled
//! by their flag), each file it names exists, and each `cargo` line names an
//! alias of `.cargo/config.toml` or a package of the workspace.

use std::path::{Path, PathBuf};

use clap::Parser;

use crate::Cli;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The README and every guide, with their text.
fn documents() -> Vec<(String, String)> {
    let mut files = vec![repo().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(repo().join("docs"))
        .expect("docs/")
        .map(|e| e.expect("a docs/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("a doc");
            (p.file_name().expect("a name").to_string_lossy().into_owned(), text)
        })
        .collect()
}

/// The command lines of a document's shell blocks (```sh or a bare ```),
/// continuation lines joined, with the line each starts on.
fn shell_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_shell = false;
    let mut in_block = false;
    let mut pending: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(lang) = trimmed.strip_prefix("```") {
            in_block = !in_block;
            in_shell = in_block && (lang.is_empty() || lang == "sh" || lang == "bash");
            continue;
        }
        if !in_shell {
            continue;
        }
        let (start, mut joined) = pending.take().unwrap_or((i + 1, String::new()));
        joined.push_str(trimmed.trim_end_matches('\\').trim_end());
        joined.push(' ');
        if trimmed.ends_with('\\') {
            pending = Some((start, joined));
        } else {
            out.push((start, joined.trim().to_owned()));
        }
    }
    out
}

/// Shell words of a line, up to its `#` comment (quotes respected).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut started = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                started = true;
            }
            (None, '#') if !started => break,
            (None, c) if c.is_whitespace() => {
                if started {
                    out.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (None, c) => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        out.push(word);
    }
    out
}

/// A synopsis made concrete: optional parts taken in, the first of `a|b`,
/// CAPITAL placeholders (and `$(...)`) filled by the flag before them.
fn concrete(words: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in words {
        let w = w.trim_start_matches('[').trim_end_matches(']');
        if w.is_empty() {
            continue;
        }
        let choice = !w.starts_with("--") && w.contains('|');
        let w = if choice { w.split('|').next().unwrap_or(w) } else { w };
        let placeholder = w.starts_with("$(")
            || (!choice
                && w.chars().any(|c| c.is_ascii_uppercase())
                && w.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == ','));
        let value = if placeholder {
            match out.last().map(String::as_str) {
                Some("--date" | "--from" | "--to") => "2026-11-23",
                Some("--at" | "--now") => "2026-11-23T12:00:00Z",
                Some("--phone") => "+15125550142",
                Some("--email") => "ana@northside.example",
                Some("--port" | "--http-port" | "--conflicts") => "0",
                _ => "X",
            }
            .to_owned()
        } else {
            w.to_owned()
        };
        out.push(value);
    }
    out
}

#[test]
fn every_documented_custops_command_parses_and_its_files_exist() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for (doc, text) in documents() {
        for (line, command) in shell_lines(&text) {
            let w = words(&command);
            let args = match w.first().map(String::as_str) {
                Some("custops") => concrete(&w),
                Some("cargo") if w.get(1).map(String::as_str) == Some("custops") => concrete(&w[1..]),
                _ => continue,
            };
            checked += 1;
            if let Err(e) = Cli::try_parse_from(&args) {
                failures.push(format!("{doc}:{line}: `{command}`: {}", e.render()));
                continue;
            }
            // The files it reads (a store's config, secrets, a history).
            for a in &args {
                if (a.starts_with("events/") || a.starts_with("infra/")) && !repo().join(a).exists() {
                    failures.push(format!("{doc}:{line}: `{command}`: {a} does not exist"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "documented commands that do not run as written:\n{}", failures.join("\n"));
    assert!(checked >= 40, "only {checked} custops commands found in the docs");
}

#[test]
fn every_documented_cargo_command_is_an_alias_or_a_package() {
    let config = std::fs::read_to_string(repo().join(".cargo/config.toml")).expect(".cargo/config.toml");
    let aliases: Vec<&str> = config.lines().filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim())).collect();
    let workspace = std::fs::read_to_string(repo().join("Cargo.lock")).expect("Cargo.lock");
    let builtin = ["test", "build", "install", "nextest", "run", "clippy", "fmt", "doc"];
    let mut failures = Vec::new();
    for (doc, text) in documents() {
        for (line, command) in shell_lines(&text) {
            let w = words(&command);
            if w.first().map(String::as_str) != Some("cargo") {
                continue;
            }
            let Some(sub) = w.get(1) else { continue };
            if !aliases.contains(&sub.as_str()) && !builtin.contains(&sub.as_str()) {
                failures.push(format!("{doc}:{line}: `cargo {sub}` is neither an alias nor cargo's own"));
            }
            for pair in w.windows(2).filter(|p| p[0] == "-p" || p[0] == "--package") {
                if !workspace.contains(&format!("name = \"{}\"\n", pair[1])) {
                    failures.push(format!("{doc}:{line}: no package {}", pair[1]));
                }
            }
            if sub == "install" && !w.iter().any(|a| a == "--path") {
                failures.push(format!("{doc}:{line}: `cargo install` of something not in the repository"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_synopsis_becomes_a_command() {
    let w = words("custops task done TASK_ID --store S --phone P [--outcome booked|reached]   # a comment");
    assert_eq!(
        concrete(&w),
        ["custops", "task", "done", "X", "--store", "X", "--phone", "+15125550142", "--outcome", "booked"]
    );
    assert_eq!(words("a 'b c' \"d#e\" # f"), ["a", "b c", "d#e"]);
    assert_eq!(shell_lines("```sh\nx \\\n  y\n```\n"), [(2, "x y".to_owned())]);
}
