#!/usr/bin/env bash
# cli_policy.sh — the charter's policies as the quality gate, with the mycel command
# (docs/policies.md): a policy set by a charter version; lint and publish refuse a deny with
# the policy, its message and the document location, and report a warn; a document that
# came from elsewhere before the policy existed is marked non-compliant by the node holding
# it and hidden from search unless --all.
# Usage: tests/cli_policy.sh PATH/TO/mycel   (meson runs it from the source root)
set -euo pipefail

MYCEL=$(realpath "$1")
LIB=$(realpath tests/cli_lib.sh)
T=$(mktemp -d /tmp/mycel-policy-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"
export NO_COLOR=1

. "$LIB"

# contract ID VERSION CLASSIFICATION [purpose]: an ODCS contract with a PII column
contract() {
	cat <<EOF
apiVersion: v3.0.2
kind: DataContract
id: $1
version: $2
status: active
name: $1 of every customer
EOF
	if [ -n "${4:-}" ]; then printf 'description:\n  purpose: %s\n' "$4"; fi
	cat <<EOF
schema:
  - name: $1
    properties:
      - name: id
        logicalType: string
      - name: email
        logicalType: string
        tags: [pii]
        classification: $3
EOF
}

for k in gov sales rogue; do "$MYCEL" keygen --out $k.key >$k.pub; done
pk() { cat "$1.pub"; }
run 0 charter init --mesh acme --member gov="$(pk gov)" --threshold 1 \
	--domain sales="$(pk sales)" --domain rogue="$(pk rogue)" --out v1.mcc
run 0 charter sign v1.mcc --key gov.key
run 0 init --dir S --domain sales --key sales.key --charter v1.mcc
run 0 init --dir R --domain rogue --key rogue.key --charter v1.mcc
# before any policy: rogue publishes a contract whose PII column is only internal
contract leads 1.0.0 internal "every lead" >leads.yaml
run 0 publish leads.yaml --data R
ok "v1 has no policy: rogue publishes leads with an internal PII column"

# ---- v2: the PII policy (deny); v3: a purpose policy (warn) ------------------------------------
PII="contract.schema.all(t, !has(t.properties) || t.properties.all(p, !(has(p.tags) && 'pii' in p.tags) || (has(p.classification) && p.classification == 'restricted')))"
run 0 charter set-policy v1.mcc --id pii-restricted --severity deny --expr "$PII" \
	--message "PII columns must be classified restricted" --out v2.mcc
run 0 charter sign v2.mcc --key gov.key
run 0 charter set-policy v2.mcc --id has-purpose --severity warn \
	--expr "has(contract.description) && has(contract.description.purpose)" \
	--message "a contract should say what it is for" --out v3.mcc
run 0 charter sign v3.mcc --key gov.key
run 0 pull --from R --data S
for d in S R; do
	run 0 charter apply v2.mcc --data $d
	run 0 charter apply v3.mcc --data $d
done
run 0 charter show --data S
has "version    3" "pii-restricted" "has-purpose"
ok "v2 and v3 set a deny and a warn policy; both stores adopt them"

# ---- the node that holds rogue's leads marks it; search hides it unless --all ---------------------
run 0 get rogue/leads --data S
has "NONCOMPLIANT: violates 1 deny policy"
run 0 search leads --data S
hasnt "rogue/leads"
run 0 search leads --all --data S
has "rogue/leads" "[violates 1 deny policy]"
run 0 search leads --all --json --data S
has '"denied":1'
ok "rogue/leads, published before the policy, is marked on adoption: hidden, shown by --all"

# ---- lint and publish refuse the deny, with where; the fix publishes with a warning ---------------
contract orders 1.0.0 internal >bad.yaml
run 1 lint bad.yaml --data S
has "bad.yaml:15:25: /schema/0/properties/1/classification: policy pii-restricted (deny): PII columns must be classified restricted" \
	"bad.yaml:1:1: warning: /: policy has-purpose (warn): a contract should say what it is for" \
	"bad.yaml: invalid (1 finding)"
run 1 lint bad.yaml --charter v3.mcc
has "policy pii-restricted (deny)"
run 0 lint bad.yaml --charter v1.mcc
ok "lint runs the charter's policies (the domain's, or --charter): a deny is an error with its location"
run 1 publish bad.yaml --data S --dry-run
has "policy pii-restricted (deny)"
run 1 publish bad.yaml --data S
has "FAILED_PRECONDITION" "bad.yaml:15:25: /schema/0/properties/1/classification: policy pii-restricted (deny): PII columns must be classified restricted" \
	"violates a deny policy of the charter" "nothing was published"
run 1 log sales --data S
has 'no feed of domain "sales"'
ok "publish refuses it (FAILED_PRECONDITION), lists the policy and location, writes nothing"
contract orders 1.0.0 restricted >good.yaml
run 0 publish good.yaml --data S
has "published  sales/orders 1.0.0" "warning  good.yaml:" "policy has-purpose (warn): a contract should say what it is for"
run 0 get sales/orders --data S
has "1 policy warning"
hasnt "NONCOMPLIANT"
run 0 search orders --data S
has "sales/orders"
contract orders 1.1.0 restricted "every order" >good2.yaml
run 0 publish good2.yaml --data S --json
hasnt '"warnings"'
ok "the fix publishes; its warning is shown and recorded; with a purpose, none"

# ---- a charter whose policy expression does not compile is refused whole -----------------------------
run 1 charter set-policy v3.mcc --id broken --severity deny --expr "contract.schema.all(t," \
	--message m --out v4.mcc
has "policy broken: --expr 1:"
[ ! -e v4.mcc ] || fail "a refused set-policy wrote v4.mcc"
ok "set-policy refuses an expression that does not compile, with its position"

echo "1..$n"
