#!/usr/bin/env bash
# Prints what `mtdhost` shows for the contoso example — validate, plan, apply,
# the re-plan, export and the JSON plan — against a fresh embedded tenant,
# with the run's temporary directory and generated ids normalised. Diff two
# runs to prove a refactor left the CLI output byte-identical:
#
#   scripts/cli-snapshot.sh > before.txt   # on the old commit
#   scripts/cli-snapshot.sh > after.txt    # on the new one
#   diff before.txt after.txt
#
# MTDHOST (default target/release/mtdhost) picks the binary.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(realpath "${MTDHOST:-$root/target/release/mtdhost}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$root"/examples/contoso/mtdhost.toml "$root"/examples/contoso/rules.rhai "$work"/
cd "$work"
run() {
    echo "\$ mtdhost $*"
    set +e
    "$bin" "$@" 2>&1
    echo "[exit $?]"
    set -e
    echo
}
{
    run validate -c mtdhost.toml
    run plan -c mtdhost.toml
    run plan -c mtdhost.toml --output json
    run apply -c mtdhost.toml --auto-approve
    run plan -c mtdhost.toml --detailed-exitcode
    run export -c mtdhost.toml
    run export -c mtdhost.toml --all
    run connectors -c mtdhost.toml
} | sed -E -e "s#$work#<dir>#g" \
    -e 's/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/<id>/g' \
    -e 's/[0-9]+(\.[0-9]+)? ?(ms|s)\b/<time>/g'
