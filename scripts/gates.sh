#!/usr/bin/env bash
# The static security gates (issue 11), offline, with the tools pinned in requirements/gates.txt
# (.venv-gates, built by `make setup-gates`). One verdict line per gate; exits 1 when any gate has a
# finding, 2 when the gate environment is missing. Each gate's output is in $GATES_REPORTS/<gate>.log.
#
#   cfn-lint      template.yaml with the serverless rules (cfn-lint-serverless)
#   checkov       the template as deployed: expanded by aws-sam-translator (generated IAM roles included)
#   bandit        layers/ functions/
#   semgrep       layers/ functions/ against our own rules in .semgrep/ (no registry rules)
#   suppressions  every nosec / nosemgrep / checkov skip / cfn-lint ignore carries its reason
#
# What to scan can be pointed elsewhere (tests/static/test_gates.py feeds it deliberately bad code):
#   GATES_TEMPLATE (template.yaml), GATES_CODE ("layers functions"), GATES_REPORTS (out/gates)
set -uo pipefail
cd "$(dirname "$0")/.."

VENV="${GATES_VENV:-.venv-gates}"
TEMPLATE="${GATES_TEMPLATE:-template.yaml}"
read -r -a CODE <<< "${GATES_CODE:-layers functions}"
REPORTS="${GATES_REPORTS:-out/gates}"
BIN="$VENV/bin"
GATES=(cfn-lint checkov bandit semgrep suppressions)

# Offline: the translator needs a region and nothing else; semgrep sends no metrics and checks no version.
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}" SEMGREP_SEND_METRICS=off SEMGREP_ENABLE_VERSION_CHECK=0

for tool in cfn-lint checkov bandit semgrep; do
  if [ ! -x "$BIN/$tool" ]; then
    echo "gates: $BIN/$tool is missing: run \`make setup-gates\` (builds $VENV from requirements/gates.txt)" >&2
    exit 2
  fi
done

gate_cfn_lint() {
  # The template comes first: -a takes every argument after it as a rules module.
  "$BIN/cfn-lint" "$TEMPLATE" --config-file .cfnlintrc.yaml --format parseable -a cfn_lint_serverless.rules
}

gate_checkov() {
  local expanded="$REPORTS/template.expanded.json"
  rm -rf "$REPORTS/checkov" "$expanded"
  "$BIN/python" scripts/expand_template.py "$TEMPLATE" "$expanded" || return 1
  "$BIN/checkov" --framework cloudformation --skip-download --config-file .checkov.yaml --file "$expanded" \
    --compact --quiet --output cli --output json --output-file-path "$REPORTS/checkov" > /dev/null
  local status=$?
  cat "$REPORTS/checkov/results_cli.txt"
  # checkov exits 0 when it cannot parse the file: a scan of nothing must not pass.
  "$BIN/python" - "$REPORTS/checkov/results_json.json" <<'EOF' || return 1
import json, sys
summary = json.load(open(sys.argv[1]))["summary"]
if summary["parsing_errors"] or not summary["resource_count"]:
    sys.exit(f"checkov scanned nothing: {summary}")
EOF
  return $status
}

gate_bandit() {
  "$BIN/bandit" --recursive --quiet --format custom \
    --msg-template '{relpath}:{line}: {test_id} [{severity}/{confidence}] {msg}' "${CODE[@]}"
}

gate_semgrep() {
  "$BIN/semgrep" scan --config .semgrep/ --error --metrics=off --disable-version-check --quiet --emacs "${CODE[@]}"
}

gate_suppressions() {
  "$BIN/python" scripts/check_suppressions.py --template "$TEMPLATE" --lists .checkov.yaml .cfnlintrc.yaml -- "${CODE[@]}"
}

mkdir -p "$REPORTS"
declare -A pids
for gate in "${GATES[@]}"; do  # in parallel: checkov and semgrep each take ~10 s to start
  "gate_${gate//-/_}" > "$REPORTS/$gate.log" 2>&1 &
  pids[$gate]=$!
done

failed=0
for gate in "${GATES[@]}"; do
  if wait "${pids[$gate]}"; then
    echo "PASS  $gate"
  else
    echo "FAIL  $gate (exit $?), full output in $REPORTS/$gate.log:"
    sed 's/^/      /' "$REPORTS/$gate.log"
    failed=1
  fi
done
exit $failed
