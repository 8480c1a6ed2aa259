//! The generated rules under `promtool`: `check rules` accepts them; `test rules` with synthetic
//! series proves each burn alert fires at its burn rate and stays silent just below it, for a
//! success and a latency objective; and the rules' answer on a workload's exposition equals the
//! in-process compliance and budget. Skipped (with a message) without promtool, unless `CI`
//! is set. Every objective of this binary is declared by `declare()`, since the rules render
//! every objective of the process.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Once;
use std::time::Duration;

use coord::objectives::Indicator;
use coord::{Objective, Outcome};

#[macro_use]
#[path = "support/rows.rs"]
mod rows;

/// Calls per minute of each synthetic operation.
const PER_MINUTE: u64 = 10_000;

/// The generated alerts: the fast and slow burn pages and the budget ticket.
const FAST: &str = "CoordObjectiveFastBurn";
const SLOW: &str = "CoordObjectiveSlowBurn";
const BUDGET: &str = "CoordObjectiveBudgetBurn";

fn declare() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for name in ["fire", "quiet"] {
            Objective::new(format!("promtool.{name}"))
                .success_rate(0.999)
                .latency_below(Duration::from_millis(500), 0.99)
                .declare()
                .unwrap();
            coord::objectives::join(&format!("promtool.op.{name}"), &format!("promtool.{name}"));
        }
        Objective::new("promtool.agree")
            .success_rate(0.99)
            .latency_below(Duration::from_millis(5), 0.9)
            .declare()
            .unwrap();
        coord::objectives::join("promtool.op.agree", "promtool.agree");
    });
}

/// promtool, or `None` (skip) when it is not installed outside CI.
fn promtool() -> Option<&'static str> {
    match Command::new("promtool").arg("--version").output() {
        Ok(_) => Some("promtool"),
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("skipping: promtool not available ({e}); CI installs it");
            None
        }
        Err(e) => panic!("promtool is required in CI: {e}"),
    }
}

fn workdir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("coord-objectives-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(promtool: &str, args: &[&str], dir: &PathBuf) -> String {
    let output = Command::new(promtool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "promtool {args:?}:\n{said}");
    said
}

/// Each alert of the rendered rules: (alert, objective, sli) → its annotations, which promtool
/// compares exactly.
fn annotations(rules: &str, alert: &str, objective: &str, sli: &str) -> (String, String) {
    let mut blocks = rules
        .split("      - ")
        .filter(|b| b.starts_with(&format!("alert: {alert}\n")));
    let block = blocks
        .find(|b| {
            b.contains(&format!("objective: \"{objective}\"\n"))
                && b.contains(&format!("sli: {sli}\n"))
        })
        .unwrap_or_else(|| panic!("no {alert} for {objective}/{sli} in\n{rules}"));
    let field = |key: &str| {
        block
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{key}: ")))
            .unwrap()
            .to_owned()
    };
    (field("summary"), field("description"))
}

/// The input series of one operation, `steps` samples `every` minutes apart: `failed` and
/// `rejected` calls per minute out of [`PER_MINUTE`], and `slow` calls per minute over the
/// 500 ms bound.
fn series(
    out: &mut String,
    name: &str,
    steps: u64,
    every: u64,
    (failed, rejected, slow): (u64, u64, u64),
) {
    let minutes = steps;
    let op = format!("promtool.op.{name}");
    let labels = format!("job=\"coord\",instance=\"a\",operation=\"{op}\"");
    let good = PER_MINUTE - failed - rejected;
    for (outcome, per) in [
        ("success", good * every),
        ("failure", failed * every),
        ("rejected", rejected * every),
    ] {
        let _ = writeln!(
            out,
            "      - series: 'coord_operation_calls_total{{{labels},outcome=\"{outcome}\"}}'\n        values: '0+{per}x{minutes}'"
        );
    }
    let timed = PER_MINUTE - rejected;
    let _ = writeln!(
        out,
        "      - series: 'coord_operation_duration_seconds_bucket{{{labels},le=\"0.5\"}}'\n        values: '0+{}x{minutes}'",
        (timed - slow) * every
    );
    let _ = writeln!(
        out,
        "      - series: 'coord_operation_duration_seconds_count{{{labels}}}'\n        values: '0+{}x{minutes}'",
        timed * every
    );
    let _ = writeln!(
        out,
        "      - series: 'coord_objective_operation_info{{job=\"coord\",instance=\"a\",objective=\"promtool.{name}\",operation=\"{op}\"}}'\n        values: '1+0x{minutes}'"
    );
}

/// One promtool test: `fire` and `quiet` burn at the given rates (failed, rejected, slow per
/// 10,000 calls a minute) for `minutes`; at the end, `alert` fires for `fire` (both indicators)
/// and not for `quiet`, and each of `silent` fires for neither.
fn case(
    rules: &str,
    every: u64,
    minutes: u64,
    fire: Rates,
    quiet: Rates,
    alert: &str,
    silent: &[&str],
) -> String {
    let mut out = format!("  - interval: {every}m\n    input_series:\n");
    let steps = minutes / every;
    series(&mut out, "fire", steps, every, fire);
    series(&mut out, "quiet", steps, every, quiet);
    let severity = if alert == BUDGET { "ticket" } else { "page" };
    let _ = writeln!(
        out,
        "    alert_rule_test:\n      - eval_time: {minutes}m\n        alertname: {alert}\n        exp_alerts:"
    );
    for sli in ["success", "latency"] {
        let (summary, description) = annotations(rules, alert, "promtool.fire", sli);
        let _ = writeln!(
            out,
            "          - exp_labels: {{ objective: promtool.fire, sli: {sli}, severity: {severity} }}\n            exp_annotations:\n              summary: {summary}\n              description: {description}"
        );
    }
    for other in silent {
        let _ = writeln!(
            out,
            "      - eval_time: {minutes}m\n        alertname: {other}\n        exp_alerts: []"
        );
    }
    out
}

/// Calls per 10,000 a minute that fail, are rejected, and are slow.
type Rates = (u64, u64, u64);

/// One row of [`case`]'s arguments after `rules`: every, minutes, fire, quiet, alert, silent.
type Case<'a> = (u64, u64, Rates, Rates, &'a str, &'a [&'a str]);

/// Writes `cases` as one promtool test file evaluated every `interval` and runs it.
fn promtool_test(promtool: &str, dir: &PathBuf, interval: &str, rules: &str, cases: &[Case]) {
    let mut tests = format!("rule_files: [rules.yml]\nevaluation_interval: {interval}\ntests:\n");
    for &(every, minutes, fire, quiet, alert, silent) in cases {
        tests.push_str(&case(rules, every, minutes, fire, quiet, alert, silent));
    }
    std::fs::write(dir.join("tests.yml"), &tests).unwrap();
    run(promtool, &["test", "rules", "tests.yml"], dir);
}

#[test]
fn the_rules_pass_promtool_and_each_alert_fires_at_its_burn_rate_only() {
    declare();
    let Some(promtool) = promtool() else { return };
    let dir = workdir("alerts");
    let rules = coord::objectives::prometheus_rules();
    std::fs::write(dir.join("rules.yml"), &rules).unwrap();
    run(promtool, &["check", "rules", "rules.yml"], &dir);

    // 30 days, targets 99.9 % (a budget of 10 bad calls per 10,000) and 99 % under 500 ms
    // (100 per 10,000), samples every minute: (every, minutes, fire, quiet, alert, silent).
    let pages: [Case; 2] = [
        // Fast burn, 14.4x: 144 and 1,440 per 10,000; `fire` at 150 (100 failed and 50 shed)
        // and 1,500 slow of 9,950 timed (15.1 %), `quiet` at 140 and 1,400 of 9,960 (14.06 %).
        (1, 65, (100, 50, 1500), (100, 40, 1400), FAST, &[]),
        // Slow burn, 6x: 60 and 600 per 10,000: `fire` at 62 (42 + 20 shed) and 620 of 9,980
        // (6.2 %), `quiet` at 58 and 580 (5.8 %); the fast burn stays silent for both.
        (1, 365, (42, 20, 620), (38, 20, 580), SLOW, &[FAST]),
    ];
    promtool_test(promtool, &dir, "1m", &rules, &pages);
    // Ticket, 1x over 3 days and 6 h: 10 and 100 per 10,000: `fire` at 11 and 110, `quiet` at
    // 9 and 90; both pages stay silent. Evaluated every 30 minutes on samples every 2 minutes
    // (every minute for 3 days takes promtool minutes).
    let ticket: [Case; 1] = [(
        2,
        3 * 24 * 60 + 30,
        (11, 0, 110),
        (9, 0, 90),
        BUDGET,
        &[FAST, SLOW],
    )];
    promtool_test(promtool, &dir, "30m", &rules, &ticket);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn in_process_compliance_and_budget_equal_the_rules_answer_on_the_same_workload() {
    declare();
    let Some(promtool) = promtool() else { return };
    // 1,000 calls: 970 succeed, 20 fail, 10 are shed; of the 990 timed, 100 take 20 ms (over
    // the 5 ms bound), the rest 1 ms or 4 ms.
    let op = coord::monitor().operation_handle("promtool.op.agree");
    for i in 0..1000u32 {
        let outcome = match i % 100 {
            0 | 1 => Outcome::Failure,
            2 => Outcome::Rejected,
            _ => Outcome::Success,
        };
        if outcome == Outcome::Rejected {
            op.start().rejected();
            continue;
        }
        let took = match i % 10 {
            5 => Duration::from_millis(20),
            // A call at a bound may count on either side (its internal bucket, 3 % wide,
            // counts at its midpoint): "within one bucket". 4 ms is clearly under 5 ms.
            6 => Duration::from_millis(4),
            _ => Duration::from_millis(1),
        };
        op.record(took, outcome);
    }
    let report = coord::report();
    let snapshot = row!(report.objectives, "promtool.agree");
    let exposition = report.to_prometheus();

    // The exposition as series: zero before the workload, its values from the first minute on.
    let mut tests = String::from(
        "rule_files: [rules.yml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n",
    );
    for line in exposition.lines() {
        let relevant = line.starts_with("coord_operation_calls_total{")
            || line.starts_with("coord_operation_duration_seconds_bucket{")
            || line.starts_with("coord_operation_duration_seconds_count{")
            || line.starts_with("coord_objective_operation_info{");
        if !relevant || !line.contains("promtool.op.agree") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        let series = series.replacen('{', "{job=\"coord\",instance=\"a\",", 1);
        let first = if series.starts_with("coord_objective_operation_info") {
            value
        } else {
            "0"
        };
        let _ = writeln!(
            tests,
            "      - series: '{series}'\n        values: '{first} {value}x10'"
        );
    }
    let _ = writeln!(tests, "    promql_expr_test:");
    for sli in [Indicator::Success, Indicator::Latency] {
        let indicator = snapshot.indicator(sli).unwrap();
        let period = indicator.windows.last().unwrap();
        let compliance = period.compliance.unwrap();
        let budget = indicator.error_budget_remaining;
        // Rounded to 2^-20 on both sides (exact in binary), since promtool compares floats
        // exactly and the two sides divide in different orders.
        let round = |v: f64| (v * 1_048_576.0 + 0.5).floor() / 1_048_576.0;
        for (expr, value) in [
            (
                format!(
                    "1 - coord_objective:error_ratio:rate30d{{objective=\"promtool.agree\",sli=\"{sli}\"}}"
                ),
                compliance,
            ),
            (
                format!(
                    "coord_objective:error_budget_remaining:ratio{{objective=\"promtool.agree\",sli=\"{sli}\"}}"
                ),
                budget,
            ),
        ] {
            let _ = writeln!(
                tests,
                "      - expr: 'round({expr}, 0.00000095367431640625)'\n        eval_time: 10m\n        exp_samples:\n          - labels: '{{objective=\"promtool.agree\",sli=\"{sli}\"}}'\n            value: {:e}",
                round(value)
            );
        }
    }
    // The workload's numbers, computed by hand: success 970 / 1,000 (rejections spend the
    // budget), latency 890 / 990 under 5 ms.
    let success = snapshot.indicator(Indicator::Success).unwrap();
    assert_eq!(success.windows.last().unwrap().compliance, Some(0.97));
    let latency = snapshot.indicator(Indicator::Latency).unwrap();
    let period = latency.windows.last().unwrap();
    assert_eq!((period.good, period.valid), (890, 990), "{}", report);
    let dir = workdir("agree");
    std::fs::write(dir.join("rules.yml"), coord::objectives::prometheus_rules()).unwrap();
    std::fs::write(dir.join("tests.yml"), &tests).unwrap();
    run(promtool, &["test", "rules", "tests.yml"], &dir);
    let _ = std::fs::remove_dir_all(&dir);
}
