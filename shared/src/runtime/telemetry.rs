//! Structured JSON logs for CloudWatch. Every line passes through a writer that
//! masks anything shaped like a phone number, so a raw number never reaches a log
//! even if it slipped into an error message.

use std::io::{self, Write};

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt::MakeWriter, EnvFilter};

/// Installs the JSON subscriber (once; later calls are no-ops). `RUST_LOG` sets
/// the filter, `info` by default.
pub fn init() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .without_time()
        .with_writer(RedactingStdout)
        .finish()
        .with(function_filter(std::env::var("RUST_LOG").ok().as_deref()))
        .try_init();
}

/// A function's log filter from `RUST_LOG` (`info`, `missed_call=debug,info`:
/// a level, and levels by target): tracing's `Targets`, which needs no
/// regular-expression engine in the binary or at the cold start, as
/// `EnvFilter` does; what it cannot read is `info`.
pub fn function_filter(rust_log: Option<&str>) -> Targets {
    rust_log
        .filter(|l| !l.trim().is_empty())
        .and_then(|l| l.parse().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO))
}

/// Human-readable logs for the operator CLI and the local stack (stderr), still masked.
pub fn init_cli(default_filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(false)
        .with_writer(RedactingStderr)
        .try_init();
}

#[derive(Clone, Copy)]
struct RedactingStdout;
#[derive(Clone, Copy)]
struct RedactingStderr;

/// Buffers one log line and writes it, masked, when dropped.
pub struct LineWriter {
    buf: Vec<u8>,
    stderr: bool,
}

impl Write for LineWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        let line = crate::phone::redact_digits(&String::from_utf8_lossy(&self.buf));
        let _ = if self.stderr {
            io::stderr().lock().write_all(line.as_bytes())
        } else {
            io::stdout().lock().write_all(line.as_bytes())
        };
    }
}

impl<'a> MakeWriter<'a> for RedactingStdout {
    type Writer = LineWriter;
    fn make_writer(&'a self) -> Self::Writer {
        LineWriter { buf: Vec::with_capacity(256), stderr: false }
    }
}

impl<'a> MakeWriter<'a> for RedactingStderr {
    type Writer = LineWriter;
    fn make_writer(&'a self) -> Self::Writer {
        LineWriter { buf: Vec::with_capacity(256), stderr: true }
    }
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    #[test]
    fn the_function_filter_reads_a_level_and_levels_by_target() {
        let f = super::function_filter(Some("warn,missed_call=debug"));
        assert!(f.would_enable("missed_call", &Level::DEBUG));
        assert!(!f.would_enable("custops", &Level::INFO));
        assert!(f.would_enable("custops", &Level::WARN));
        let default = super::function_filter(None);
        assert!(default.would_enable("custops", &Level::INFO) && !default.would_enable("custops", &Level::DEBUG));
        let unreadable = super::function_filter(Some("missed_call=loud"));
        assert!(unreadable.would_enable("x", &Level::INFO) && !unreadable.would_enable("x", &Level::DEBUG));
    }
}
