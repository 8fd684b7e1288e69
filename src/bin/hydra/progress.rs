//! Progress bars, one per stage, drawn from the library's progress events.
//!
//! The library (and this binary) announce stages as `trace` events under the
//! target [`TARGET`] (`hydra_detect::progress`): a stage starts,
//! advances (`pos` of `len` `unit`s) and ends. [`Layer`] turns them into
//! one indicatif bar at a time: a bar with bytes, rate and ETA when the
//! length is known, a spinner with the stage name and a count otherwise. It
//! is installed only when standard error is a terminal; elsewhere there are
//! no bars at all, only the `-v` log lines. Log lines written while a bar
//! shows go through [`LogWriter`], which lifts the bar out of the way.

use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::Context;

pub(crate) use hydra_detect::progress::{TARGET, advance, done, start};

/// The bar on screen, if any, and its stage.
static CURRENT: Mutex<Option<Current>> = Mutex::new(None);

struct Current {
    stage: String,
    bar: ProgressBar,
    /// Whether the bar has its length (and so the bar style) yet.
    sized: bool,
}

/// The fields of one progress event.
#[derive(Default)]
struct Fields {
    stage: Option<String>,
    unit: Option<String>,
    pos: Option<u64>,
    len: Option<u64>,
    done: bool,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "stage" => self.stage = Some(value.to_owned()),
            "unit" => self.unit = Some(value.to_owned()),
            _ => {}
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "pos" => self.pos = Some(value),
            "len" => self.len = Some(value),
            _ => {}
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if field.name() == "done" {
            self.done = value;
        }
    }

    fn record_debug(&mut self, _field: &Field, _value: &dyn std::fmt::Debug) {}
}

/// Draws the progress events as bars on standard error.
#[derive(Debug)]
pub(crate) struct Layer;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Layer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() != TARGET {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let Some(stage) = fields.stage else { return };
        let mut current = CURRENT.lock().unwrap_or_else(|p| p.into_inner());
        if fields.done {
            if current.as_ref().is_some_and(|c| c.stage == stage)
                && let Some(c) = current.take()
            {
                c.bar.finish_and_clear();
            }
            return;
        }
        if current.as_ref().is_none_or(|c| c.stage != stage) {
            if let Some(c) = current.take() {
                c.bar.finish_and_clear();
            }
            *current = Some(Current { bar: spinner(&stage), stage, sized: false });
        }
        let (Some(c), Some(pos)) = (current.as_mut(), fields.pos) else { return };
        let len = fields.len.unwrap_or(0);
        let bytes = fields.unit.as_deref() == Some("bytes");
        if len > 0 && !c.sized {
            c.bar.set_length(len);
            c.bar.set_style(sized_style(bytes));
            c.sized = true;
        } else if len == 0 && !c.sized && c.bar.position() == 0 {
            c.bar.set_style(counter_style(fields.unit.as_deref().unwrap_or("items")));
        }
        c.bar.set_position(pos);
    }
}

/// A spinner with the stage's name and elapsed time.
fn spinner(stage: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(stage.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A bar of known length: position, rate and ETA.
fn sized_style(bytes: bool) -> ProgressStyle {
    let template = if bytes {
        "{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta}"
    } else {
        "{msg} [{bar:30}] {human_pos}/{human_len} {per_sec} ETA {eta}"
    };
    ProgressStyle::with_template(template)
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// A spinner counting units of unknown total.
fn counter_style(unit: &str) -> ProgressStyle {
    ProgressStyle::with_template(&format!(
        "{{spinner}} {{msg}}: {{human_pos}} {unit} ({{per_sec}}) {{elapsed}}"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

/// Standard error for log lines: a line written while a bar shows is
/// written with the bar lifted, so the two do not garble each other.
#[derive(Debug, Default)]
pub(crate) struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let current = CURRENT.lock().unwrap_or_else(|p| p.into_inner());
        match current.as_ref() {
            Some(c) => c.bar.suspend(|| std::io::stderr().lock().write_all(buf)),
            None => std::io::stderr().lock().write_all(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Clears any bar still on screen (before an error message or the summary).
pub(crate) fn clear() {
    let mut current = CURRENT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(c) = current.take() {
        c.bar.finish_and_clear();
    }
}
