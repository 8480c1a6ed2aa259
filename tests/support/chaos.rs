//! The chaos tests' turn: one test at a time, every rule disarmed and the chaos clock put back
//! when the test ends (fault injection is process-wide).

use std::sync::{Mutex, MutexGuard};

use coord::{Clock, chaos};

/// Held for a test's length.
pub struct Turn(#[allow(dead_code)] MutexGuard<'static, ()>);

/// Waits for this test's turn, every rule disarmed.
pub fn turn() -> Turn {
    static TURNS: Mutex<()> = Mutex::new(());
    let guard = TURNS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    chaos::disarm_all();
    Turn(guard)
}

impl Drop for Turn {
    fn drop(&mut self) {
        chaos::disarm_all();
        chaos::set_clock(Clock::system());
    }
}
