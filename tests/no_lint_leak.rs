//! The generated code leaks no lint into user code: every attribute, alone and together, on
//! `mut` parameters, sync and async, methods and free functions, compiles under
//! `#![deny(warnings)]` (and `clippy -D warnings` in CI).
#![deny(warnings)]

use coord::{CircuitOpen, circuit_breaker, retry, track_performance};

#[derive(Debug)]
pub struct Failed;

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("failed")
    }
}

impl From<CircuitOpen> for Failed {
    fn from(_: CircuitOpen) -> Self {
        Failed
    }
}

#[track_performance]
pub fn perf(mut buf: Vec<u8>) -> usize {
    buf.push(1);
    buf.len()
}

#[retry(max_retries = 1, base_delay = "1ms")]
pub fn retried(mut buf: Vec<u8>, mut n: u32) -> Result<usize, Failed> {
    buf.push(1);
    n += 1;
    Ok(buf.len() + n as usize)
}

#[circuit_breaker(name = "no_lint_leak.guarded")]
pub fn guarded(mut buf: Vec<u8>) -> Result<usize, Failed> {
    buf.push(1);
    Ok(buf.len())
}

#[track_performance]
#[retry(max_retries = 1, base_delay = "1ms")]
#[circuit_breaker(name = "no_lint_leak.all")]
pub fn all(mut buf: Vec<u8>, unused_but_underscored: u8) -> Result<usize, Failed> {
    let _ = unused_but_underscored;
    buf.push(1);
    Ok(buf.len())
}

#[coord::track_performance]
#[coord::retry(max_retries = 1, base_delay = "1ms")]
#[coord::circuit_breaker(name = "no_lint_leak.all_async")]
pub async fn all_async(mut buf: Vec<u8>) -> Result<usize, Failed> {
    buf.push(1);
    Ok(buf.len())
}

#[track_performance]
pub fn never_fails() {}

#[track_performance(name = "no_lint_leak.spanned", span)]
#[retry(max_retries = 1, base_delay = "1ms")]
pub fn spanned(mut buf: Vec<u8>) -> Result<usize, Failed> {
    buf.push(1);
    Ok(buf.len())
}

#[track_performance(span)]
pub async fn spanned_async(mut buf: Vec<u8>) -> usize {
    buf.push(1);
    buf.len()
}

#[track_performance]
#[retry(max_retries = 1, base_delay = "1ms")]
pub fn returns_early(flag: bool) -> Result<u8, Failed> {
    if flag {
        return Ok(1);
    }
    Err(Failed)
}

pub struct Buffer {
    data: Vec<u8>,
}

impl Buffer {
    #[track_performance]
    #[retry(max_retries = 1, base_delay = "1ms")]
    #[circuit_breaker]
    pub fn push(&mut self, mut byte: u8) -> Result<usize, Failed> {
        byte = byte.wrapping_add(1);
        self.data.push(byte);
        Ok(self.data.len())
    }

    #[track_performance(span)]
    pub fn len_spanned(&self) -> usize {
        self.data.len()
    }

    #[track_performance]
    #[retry(max_retries = 1, base_delay = "1ms")]
    #[circuit_breaker]
    pub async fn push_async(&mut self, mut byte: u8) -> Result<usize, Failed> {
        byte = byte.wrapping_add(1);
        self.data.push(byte);
        Ok(self.data.len())
    }
}

#[tokio::test]
async fn everything_runs() {
    assert_eq!(perf(vec![]), 1);
    assert_eq!(retried(vec![], 0).unwrap(), 2);
    assert_eq!(guarded(vec![]).unwrap(), 1);
    assert_eq!(all(vec![], 0).unwrap(), 1);
    assert_eq!(all_async(vec![]).await.unwrap(), 1);
    never_fails();
    assert_eq!(spanned(vec![]).unwrap(), 1);
    assert_eq!(spanned_async(vec![]).await, 1);
    assert_eq!(returns_early(true).unwrap(), 1);
    let mut buffer = Buffer { data: Vec::new() };
    assert_eq!(buffer.push(0).unwrap(), 1);
    assert_eq!(buffer.push_async(0).await.unwrap(), 2);
    assert_eq!(buffer.len_spanned(), 2);
}
