//! Structured JSON logs for CloudWatch. Every line passes through a writer that
//! masks anything shaped like a phone number, so a raw number never reaches a log
//! even if it slipped into an error message.

use std::io::{self, Write};

use tracing_subscriber::{fmt::MakeWriter, EnvFilter};

/// Installs the JSON subscriber (once; later calls are no-ops). `RUST_LOG` sets
/// the filter, `info` by default.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .without_time()
        .with_writer(RedactingStdout)
        .try_init();
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
