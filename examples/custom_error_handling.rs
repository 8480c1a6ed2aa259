//! The guide's "Custom Error Handling": an `ErrorContext` (name, severity, retry policy) drives
//! an `ErrorHandler`; errors are classified as transient or permanent, every retry is logged
//! by a hook, and the report shows what happened per severity.

use std::time::Duration;

use coord::{ErrorContext, ErrorHandler, Jitter, RetryPolicy, Severity};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
enum StorageError {
    /// Worth retrying.
    #[error("storage busy (attempt {0})")]
    Busy(u32),
    /// Retrying cannot help.
    #[error("permission denied")]
    PermissionDenied,
}

/// The guide's `custom_error_handler(operation, *args)`: run `operation` under a context.
fn custom_error_handler<T>(
    context: ErrorContext,
    operation: impl FnMut() -> Result<T, StorageError>,
) -> Result<T, StorageError> {
    ErrorHandler::from(context).execute(operation)
}

fn exponential_backoff(max_retries: u32) -> RetryPolicy {
    RetryPolicy::exponential(max_retries, Duration::from_millis(1), 2.0)
        .max_delay(Duration::from_millis(20))
        .jitter(Jitter::Equal)
        .when(|e: &StorageError| matches!(e, StorageError::Busy(_)))
        .on_retry(|event| {
            println!(
                "   ↻ {} attempt {} failed ({}); retrying in {:.1?}",
                event.operation, event.attempt, event.error, event.delay
            )
        })
}

fn main() {
    // The guide's `ErrorContext(operation_name=..., severity=HIGH,
    // retry_strategy="exponential_backoff", max_retries=5)`.
    let context = ErrorContext {
        operation_name: "custom_operation".to_owned(),
        severity: Severity::High,
        retry: exponential_backoff(5),
    };

    println!("1. busy three times, then saved:");
    let mut attempts = 0;
    let saved = custom_error_handler(context.clone(), || {
        attempts += 1;
        if attempts <= 3 {
            Err(StorageError::Busy(attempts))
        } else {
            Ok(format!("saved after {attempts} attempts"))
        }
    });
    println!("   → {saved:?}\n");

    println!("2. permission denied: permanent, tried once:");
    let denied: Result<(), _> =
        custom_error_handler(context.clone(), || Err(StorageError::PermissionDenied));
    println!("   → {denied:?}\n");

    println!("3. always busy, critical context with 2 retries:");
    let critical = ErrorContext::new("ledger_write")
        .severity(Severity::Critical)
        .retry(exponential_backoff(2));
    let mut n = 0;
    let failed: Result<(), _> = custom_error_handler(critical, || {
        n += 1;
        Err(StorageError::Busy(n))
    });
    println!("   → {failed:?}\n");

    let report = coord::error_report();
    println!("error report: health {}", report.health_status);
    for severity in [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ] {
        println!(
            "  {:<8} {} failed attempts",
            severity.as_str(),
            report.by_severity.of(severity)
        );
    }
    println!("recent:");
    for record in &report.recent {
        println!(
            "  {:<17} {:<8} attempt {}  {:<17} {}",
            record.operation,
            record.severity.as_str(),
            record.attempt,
            record.outcome.as_str(),
            record.message
        );
    }
}
