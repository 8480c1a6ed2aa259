#!/usr/bin/env bash
# Measures what a new user's first build of coord costs: a cold debug build of the outside
# consumer crate (tests/consumer), once with coord's default features and once with
# `--no-default-features`, each in an empty target directory. A measurement, not a test: run it
# on a quiet machine and compare wall times within one run.
#
#   scripts/cold-build.sh            # prints one row per configuration
#   KEEP_TIMINGS=1 scripts/cold-build.sh   # also keeps cargo's --timings HTML reports
set -euo pipefail
cd "$(dirname "$0")/../tests/consumer"
export CARGO_TERM_COLOR=never
cargo fetch -q
printf '| configuration | wall | CPU (user+sys) | units compiled (crates, build scripts) |\n|---|---|---|---|\n'
for config in default no-default-features; do
  flags=()
  [ "$config" = default ] || flags=(--no-default-features)
  target=$(mktemp -d)
  /usr/bin/time -f '%e %U %S' -o "$target/time" \
    env CARGO_TARGET_DIR="$target" cargo build -q --timings "${flags[@]}" 2>/dev/null
  read -r wall user sys < "$target/time"
  units=$(grep -c '^    "name": ' "$target"/cargo-timings/cargo-timing.html)
  printf '| %s | %.1f s | %.1f s | %s |\n' "$config" "$wall" "$(echo "$user + $sys" | bc -l)" "$units"
  if [ -n "${KEEP_TIMINGS:-}" ]; then
    cp "$target"/cargo-timings/cargo-timing.html "/tmp/cargo-timing-$config.html"
  fi
  rm -rf "$target"
done
