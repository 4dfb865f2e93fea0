#!/usr/bin/env bash
# Checks the deploy examples in manifests/deploy/ against the schemas of what runs them:
# - Kubernetes manifests against the Kubernetes API's JSON schemas, strictly (no unknown
#   fields), with kubernetes-validate;
# - the GitHub Actions workflow against the GitHub workflow schema, with check-jsonschema;
# - the Container Apps job against the Microsoft.App models of the Azure SDK for Python;
# - the JSON reports of the demo's dry run and reconcile against docs/plan.schema.json.
# The tools are installed from PyPI into a virtual environment (AZRECON_DEPLOY_VENV, by default
# under the system's temporary folder), pinned, once.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${AZRECON_DEPLOY_VENV:-${TMPDIR:-/tmp}/azrecon-deploy-check}"
if [ ! -x "$venv/bin/kubernetes-validate" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    check-jsonschema==0.39.0 kubernetes-validate==1.37.0 azure-mgmt-appcontainers==5.1.0 PyYAML==6.0.4
fi
"$venv/bin/kubernetes-validate" --strict --kubernetes-version 1.33.0 manifests/deploy/kubernetes/*.yaml
"$venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows manifests/deploy/github/*.yml
"$venv/bin/python" scripts/check_containerapps_job.py manifests/deploy/containerapps/*.yaml
reports="$(mktemp -d)"
trap 'rm -rf "$reports"' EXIT
demo=(-f manifests/examples --emulator-seed manifests/examples/live --output json)
cargo run --quiet -- reconcile --dry-run "${demo[@]}" > "$reports/dry-run.json" || [ $? -eq 2 ]
cargo run --quiet -- reconcile "${demo[@]}" > "$reports/reconcile.json"
"$venv/bin/check-jsonschema" --schemafile docs/plan.schema.json "$reports"/*.json
echo "deploy examples and report schema: 4 checks passed"
