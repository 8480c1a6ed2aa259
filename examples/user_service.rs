//! The guide's "Complete Service with All Systems": validation, retries with error records and
//! performance tracking around one service call.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use coord::{ErrorHandler, FieldError, RetryPolicy, Severity, Validate};

#[derive(Debug, Validate, serde::Serialize)]
struct NewUser {
    #[validate(length(min = 2, max = 50))]
    name: String,
    #[validate(email)]
    email: String,
    #[validate(range(min = 18, max = 120))]
    age: u32,
}

#[derive(Debug)]
struct User {
    user_id: String,
    status: &'static str,
    name: String,
}

#[derive(Debug)]
enum ServiceError {
    Invalid(Vec<FieldError>),
    Storage(String),
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServiceError::Invalid(errors) => {
                let fields: Vec<_> = errors
                    .iter()
                    .map(|e| format!("{}: {}", e.path, e.message))
                    .collect();
                write!(f, "invalid user data: {}", fields.join("; "))
            }
            ServiceError::Storage(why) => write!(f, "storage failed: {why}"),
        }
    }
}

struct EnhancedUserService {
    errors: ErrorHandler,
    attempts: std::cell::Cell<u32>,
}

impl EnhancedUserService {
    fn new() -> Self {
        coord::monitor().start();
        Self {
            errors: ErrorHandler::new("create_user")
                .retry(RetryPolicy::exponential(3, Duration::from_millis(5), 2.0))
                .severity(Severity::Medium),
            attempts: std::cell::Cell::new(0),
        }
    }

    fn create_user(&self, data: &NewUser) -> Result<User, ServiceError> {
        let validation = data.validate();
        if !validation.is_valid {
            return Err(ServiceError::Invalid(validation.errors));
        }
        let guard = coord::monitor().record_operation("create_user");
        let result = self.errors.execute(|| self.create_user_internal(data));
        match &result {
            Ok(_) => guard.success(),
            Err(error) => guard.failure(error),
        }
        result
    }

    fn create_user_internal(&self, data: &NewUser) -> Result<User, ServiceError> {
        std::thread::sleep(Duration::from_millis(10)); // simulate the database write
        // The first attempt hits a transient storage error; the retry succeeds.
        self.attempts.set(self.attempts.get() + 1);
        if self.attempts.get() == 1 {
            return Err(ServiceError::Storage("connection reset".into()));
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Ok(User {
            user_id: format!("user_{}", now.as_secs()),
            status: "created",
            name: data.name.clone(),
        })
    }
}

impl Drop for EnhancedUserService {
    fn drop(&mut self) {
        coord::monitor().stop();
    }
}

fn main() {
    let service = EnhancedUserService::new();
    let jane = NewUser {
        name: "Jane Doe".into(),
        email: "jane@example.com".into(),
        age: 30,
    };
    match service.create_user(&jane) {
        Ok(user) => println!(
            "✅ User created: {} ({}, {})",
            user.user_id, user.status, user.name
        ),
        Err(e) => println!("❌ Error: {e}"),
    }
    let kid = NewUser {
        name: "J".into(),
        email: "jane.example.com".into(),
        age: 12,
    };
    if let Err(e) = service.create_user(&kid) {
        println!("❌ Error: {e}");
    }

    let perf = coord::monitor().performance_report();
    if let Some(stats) = perf.find("create_user") {
        println!(
            "📊 Performance: {:.2} ms avg over {} call(s)",
            stats.mean.as_secs_f64() * 1e3,
            stats.calls
        );
    }
    let health = service.errors.error_report();
    let row = health.find("create_user");
    println!(
        "🏥 Health: {} ({} failed attempt(s), {} recovered by retry)",
        health.health_status,
        row.map_or(0, |r| r.errors),
        row.map_or(0, |r| r.successes_after_retry)
    );
}
