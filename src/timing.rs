//! Where a command's time went, for the one line every command ends with under `--debug`: a slow
//! `ec2switch` explains itself (a lock held by another shell, a code command waiting for a touch,
//! a slow endpoint). Nothing is measured unless debugging is on.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The parts of a command's time that can be slow.
#[derive(Clone, Copy)]
pub enum Phase {
    CacheRead,
    LockWait,
    Code,
    Aws,
    Write,
}

const NAMES: [&str; 5] = ["cache read", "lock wait", "code", "AWS", "write"];

static TOTALS: Mutex<[Duration; 5]> = Mutex::new([Duration::ZERO; 5]);

/// Runs `work`, adding its time to `phase` when debugging.
pub fn measure<T>(phase: Phase, work: impl FnOnce() -> T) -> T {
    if !crate::error::debug_enabled() {
        return work();
    }
    let started = Instant::now();
    let result = work();
    let mut totals = TOTALS.lock().unwrap_or_else(|e| e.into_inner());
    totals[phase as usize] += started.elapsed();
    result
}

/// `time: total 412.3ms = start-up 0.4ms, cache read 0.2ms, lock wait 0.0ms, code 0.0ms, AWS
/// 405.1ms, write 1.2ms, other 5.4ms`: start-up from `started` (the start of `main`) to
/// `dispatched` (the command's own start), other is what no phase accounts for.
pub fn summary(started: Instant, dispatched: Instant) -> String {
    let total = started.elapsed();
    let startup = dispatched.saturating_duration_since(started);
    let totals = *TOTALS.lock().unwrap_or_else(|e| e.into_inner());
    let measured: Duration = totals.iter().sum();
    let ms = |d: Duration| format!("{:.1}ms", d.as_secs_f64() * 1000.0);
    let mut line = format!("time: total {} = start-up {}", ms(total), ms(startup));
    for (name, spent) in NAMES.iter().zip(totals) {
        line.push_str(&format!(", {name} {}", ms(spent)));
    }
    let other = total.saturating_sub(startup).saturating_sub(measured);
    line.push_str(&format!(", other {}", ms(other)));
    line
}
