//! `COORD_CONFIG` is loaded on first use. The checks run in child processes of this test binary
//! (started with the variable set), because the environment is process-wide.

use std::process::Command;

/// Writes `text` to a temporary config file and runs the ignored test `child` in a child
/// process with `COORD_CONFIG` pointing at it; fails if the child's test fails.
fn child_passes_with_config(child: &str, file: &str, text: &str) {
    let dir = std::env::temp_dir().join(format!("coord-env-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(file);
    std::fs::write(&path, text).unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", child, "--nocapture"])
        .env("COORD_CONFIG", &path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{child}: {stdout}");
    // A renamed child would match nothing and "pass" with 0 tests run.
    assert!(stdout.contains("1 passed"), "{child} did not run: {stdout}");
}

#[test]
fn a_good_file_is_applied_on_first_use() {
    child_passes_with_config(
        "child_sees_the_policy",
        "good.yaml",
        "retry_policies:\n  env.api:\n    max_retries: 7\n",
    );
}

#[test]
fn a_bad_file_is_reported_and_not_applied() {
    child_passes_with_config(
        "child_sees_the_error",
        "bad.yaml",
        "retry_policies:\n  env.api:\n    max_retry: 7\n",
    );
}

#[test]
#[ignore = "run by a_good_file_is_applied_on_first_use with COORD_CONFIG set"]
fn child_sees_the_policy() {
    assert!(
        coord::config::env_status().is_none(),
        "nothing loaded before first use"
    );
    let policy = coord::retry_policy("env.api").expect("loaded from COORD_CONFIG");
    assert_eq!(policy.settings().max_retries, 7);
    assert!(matches!(coord::config::env_status(), Some(Ok(Some(_)))));
}

#[test]
#[ignore = "run by a_bad_file_is_reported_and_not_applied with COORD_CONFIG set"]
fn child_sees_the_error() {
    assert!(coord::retry_policy("env.api").is_none());
    let Some(Err(error)) = coord::config::env_status() else {
        panic!("expected an error")
    };
    assert!(
        error.to_string().contains("did you mean `max_retries`?"),
        "{error}"
    );
}

const DOORS_FILE: &str = "bulkheads:\n  env.db: { max_concurrent: 3 }\n\
                          rate_limits:\n  env.sms: { rate: 7, per: 1s, burst: 2 }\n";

#[test]
fn the_bulkhead_door_loads_the_file() {
    child_passes_with_config(
        "child_bulkhead_door_loads",
        "doors_bulkhead.yaml",
        DOORS_FILE,
    );
}

#[test]
fn the_rate_limiter_door_loads_the_file() {
    child_passes_with_config(
        "child_rate_limiter_door_loads",
        "doors_rate.yaml",
        DOORS_FILE,
    );
}

#[test]
#[ignore = "run by the_bulkhead_door_loads_the_file with COORD_CONFIG set"]
fn child_bulkhead_door_loads() {
    assert!(coord::config::env_status().is_none());
    // The first door used is the bulkhead's: it must apply the file before answering.
    assert_eq!(coord::bulkhead("env.db").max_concurrent(), 3);
    assert!(matches!(coord::config::env_status(), Some(Ok(Some(_)))));
}

#[test]
#[ignore = "run by the_rate_limiter_door_loads_the_file with COORD_CONFIG set"]
fn child_rate_limiter_door_loads() {
    assert!(coord::config::env_status().is_none());
    let config = coord::rate_limiter("env.sms").config();
    assert_eq!((config.rate, config.burst), (7, 2));
    assert!(matches!(coord::config::env_status(), Some(Ok(Some(_)))));
}

#[test]
fn the_keyed_breakers_door_loads_the_file() {
    child_passes_with_config("child_keyed_door_loads", "doors_keyed.yaml", DOORS_FILE);
}

#[test]
#[ignore = "run by the_keyed_breakers_door_loads_the_file with COORD_CONFIG set"]
fn child_keyed_door_loads() {
    assert!(coord::config::env_status().is_none());
    coord::breakers::keyed("env.keyed", coord::BreakerConfig::default()).unwrap();
    assert!(matches!(coord::config::env_status(), Some(Ok(Some(_)))));
    // The file was applied before the lookup answered.
    assert_eq!(
        coord::bulkheads::find("env.db").unwrap().max_concurrent(),
        3
    );
}
