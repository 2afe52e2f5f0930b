#!/usr/bin/env bash
# cli_diff.sh — `mycel diff OLD NEW` as a user runs it (output, --json, --mode, exit codes,
# bad input naming the file), and a publish of a breaking contract change: refused without a
# new major version (exit 1, the list of changes, nothing stored), accepted with one; both
# on a domain directory (--data) and through a running myceld's admin socket (--node). The
# daemon listens on tcp://127.0.0.1:0, is awaited through its ready line and ended by its pid.
#
#   tests/cli_diff.sh MYCEL_BINARY MYCELD_BINARY      (run from the source root)
set -euo pipefail
mycel=$(realpath "$1")
MYCEL=$mycel
LIB=$(realpath tests/cli_lib.sh)
myceld=$(realpath "$2")
work=$(mktemp -d /tmp/mycel-cli-diff.XXXXXX)
dpid=
stop_daemon() {
	if [ -n "$dpid" ]; then
		kill "$dpid" 2>/dev/null || true
		wait "$dpid" 2>/dev/null || true
		dpid=
	fi
}
trap 'stop_daemon; rm -rf "$work"' EXIT
cd "$work"
export NO_COLOR=1
unset MYCEL_NODE MYCEL_DATA
. "$LIB"
lacks() {
	local t
	for t in "$@"; do
		grep -qF -- "$t" <<<"$OUT" && fail "output has \"$t\""
	done
	return 0
}

# version 1.0.0 of a contract, and versions that change it
contract() { # VERSION EXTRA_PROPERTY_LINES MAXLEN
	cat <<EOF
apiVersion: v3.1.0
kind: DataContract
id: orders
version: $1
status: active
name: Orders
schema:
  - name: orders
    properties:
      - name: order_id
        logicalType: string
        required: true
      - name: email
        logicalType: string
        logicalTypeOptions:
          maxLength: $3
$2
EOF
}
contract 1.0.0 "      - name: total
        logicalType: number" 255 >v1.yaml
contract 1.1.0 "" 255 >v11-removed.yaml                       # total removed
contract 1.1.0 "      - name: total
        logicalType: number
      - name: note
        logicalType: string" 300 >v11-compatible.yaml          # optional added, bound loosened
contract 2.0.0 "" 100 >v2.yaml                                 # removed and tightened, major

# ---- mycel diff -------------------------------------------------------------------------------
run 1 diff v1.yaml v11-removed.yaml
has "BREAKING    /schema/0/properties/2  property-removed  property orders.total (\"number\") was removed" \
	"v1.yaml (1.0.0) -> v11-removed.yaml (1.1.0): 1 change, 1 breaking under BACKWARD; publishing NEW needs a new major version"
ok "diff: a removed property is BREAKING, on one aligned line with its pointer and rule; exit 1"

run 0 diff v1.yaml v11-compatible.yaml
[ "$(grep -c '^compatible  ' <<<"$OUT")" = 2 ] || fail "two compatible changes"
has "compatible  /schema/0/properties/1/logicalTypeOptions/maxLength  bound-loosened  maxLength of orders.email loosened from 255 to 300" \
	"compatible  /schema/0/properties/3                               property-added  optional property orders.note was added" \
	"2 changes, 0 breaking under BACKWARD"
ok "diff: an optional property added and a bound loosened are compatible under BACKWARD; exit 0"

run 1 diff --mode FORWARD v1.yaml v11-compatible.yaml
has "BREAKING    /schema/0/properties/1/logicalTypeOptions/maxLength  bound-loosened" "2 breaking under FORWARD"
run 1 diff --mode full v1.yaml v11-compatible.yaml
has "2 breaking under FULL"
run 0 diff --mode NONE v1.yaml v11-removed.yaml
has "0 breaking under NONE"
ok "diff --mode: FORWARD and FULL count loosening, NONE counts nothing"

run 1 diff v1.yaml v2.yaml
has "bound-tightened" "property-removed" "2 breaking under BACKWARD; the major version goes up, so they may be published"
ok "diff: with a major bump the breaking changes are still listed (exit 1) and said to be publishable"

run 0 diff v1.yaml v1.yaml
has "v1.yaml (1.0.0) -> v1.yaml (1.0.0): no changes"
ok "diff of a file with itself: no changes, exit 0"

python3 -c 'import json,sys; print(json.dumps({"apiVersion": "v3.1.0", "kind": "DataContract",
  "id": "orders", "version": "1.1.0", "status": "active", "name": "Orders", "schema": [{"name": "orders",
  "properties": [{"name": "order_id", "logicalType": "string", "required": True},
  {"name": "email", "logicalType": "string", "logicalTypeOptions": {"maxLength": 255}}]}]}, indent=1))' >v11.json
run 0 diff v11-removed.yaml v11.json
has "v11-removed.yaml (1.1.0) -> v11.json (1.1.0): no changes"
run 1 diff v1.yaml v11.json
has "BREAKING    /schema/0/properties/2  property-removed"
ok "diff: JSON and YAML files compare alike (the same contract in JSON is no change)"

run 1 diff --json v1.yaml v11-removed.yaml
python3 - "$STDOUT" <<'EOF' || fail "diff --json"
import json, sys
d = json.loads(sys.argv[1])
assert d["mode"] == "BACKWARD" and d["old_version"] == "1.0.0" and d["new_version"] == "1.1.0", d
assert d["total"] == 1 and d["breaking"] == 1 and d["major_bump"] is False, d
c = d["changes"][0]
assert c["rule"] == "property-removed" and c["breaking"] is True, c
assert c["breaks"] == ["backward", "forward"], c
assert c["old_pointer"] == "/schema/0/properties/2" and c["old_line"] == 17, c
assert c["new_pointer"] is None, c
EOF
ok "diff --json: mode, versions, each change with rule, directions, pointers and lines"

# bad input: exit 2 for usage, 1 naming the file otherwise
run 2 diff v1.yaml
run 2 diff --mode SIDEWAYS v1.yaml v2.yaml
has 'unknown --mode "SIDEWAYS"'
run 2 diff --node tcp://127.0.0.1:1 v1.yaml v2.yaml
ok "diff: a missing argument, an unknown mode and --node are usage errors (exit 2)"
run 1 diff v1.yaml missing.yaml
has "mycel: diff: missing.yaml: cannot read the file"
printf 'kind: DataContract\nid: [\n' >broken.yaml
run 1 diff broken.yaml v1.yaml
has "broken.yaml:" "mycel: diff: broken.yaml: does not parse"
sed 's/id: orders/id: invoices/' v1.yaml >other.yaml
run 1 diff v1.yaml other.yaml
has "mycel: diff: other.yaml: a different contract (id invoices) than v1.yaml (id orders)"
sed 's/logicalType: string/logicalType: strng/' v1.yaml >invalid.yaml
run 1 diff v1.yaml invalid.yaml
has "invalid.yaml:11:22: /schema/0/properties/0/logicalType:" "mycel: diff: invalid.yaml: not a valid ODCS data contract"
printf 'apiVersion: v1.0.0\nkind: DataProduct\nid: orders\nname: x\nstatus: active\nversion: 1.0.0\n' >product.yaml
run 1 diff v1.yaml product.yaml
has "product.yaml: not an ODCS data contract (kind DataProduct)"
ok "diff: an unreadable file, invalid YAML, another contract, a schema-invalid or non-contract document: exit 1, the file named"

# ---- publishing: --data ---------------------------------------------------------------------
"$mycel" init --dir sales --domain sales >/dev/null
run 0 publish --data sales v1.yaml
run 1 publish --data sales v11-removed.yaml
has "FAILED_PRECONDITION: v11-removed.yaml: document 1 of 1: it makes breaking changes without a new major version" \
	"v11-removed.yaml:10:7: /schema/0/properties/2: property-removed: property orders.total (\"number\") was removed (breaking under BACKWARD against version 1.0.0; 1.1.0 needs a new major version)" \
	"nothing was published"
run 1 get --data sales sales/orders --version 1.1.0
has "NOT_FOUND"
ok "publish --data of a breaking minor version: refused with the list of breaking changes (exit 1), nothing stored"
run 1 publish --data sales --dry-run v11-removed.yaml
has "FAILED_PRECONDITION: v11-removed.yaml: document 1 of 1 makes breaking changes without a new major version (1 finding)" \
	"v11-removed.yaml:10:7: /schema/0/properties/2: property-removed:"
ok "publish --dry-run reports the same breaking changes"
run 0 publish --data sales v11-compatible.yaml
has "published  sales/orders 1.1.0"
run 0 publish --data sales v2.yaml
has "published  sales/orders 2.0.0"
ok "publish --data: a compatible minor version and a breaking major version are published"

# ---- the charter's mode ----------------------------------------------------------------------
gov=$("$mycel" keygen --out gov.key)
fwd=$("$mycel" keygen --out fwd.key)
run 2 charter init --mesh m --member gov=$gov --threshold 1 --domain fwd=$fwd --compatibility LOOSE --out bad.mcc
has '--compatibility "LOOSE" is not one of BACKWARD'
[ ! -e bad.mcc ] || fail "a charter was written for an unknown mode"
run 0 charter init --mesh m --member gov=$gov --threshold 1 --domain fwd=$fwd --compatibility forward --out fwd.mcc
run 0 charter sign fwd.mcc --key gov.key
run 0 charter show fwd.mcc
has "contracts  FORWARD compatibility"
"$mycel" init --dir fwd --domain fwd --key fwd.key --charter fwd.mcc >/dev/null
run 0 publish --data fwd v1.yaml
run 1 publish --data fwd v11-compatible.yaml
has "v11-compatible.yaml:16:22: /schema/0/properties/1/logicalTypeOptions/maxLength: bound-loosened: maxLength of orders.email loosened from 255 to 300 (breaking under FORWARD against version 1.0.0" \
	"/schema/0/properties/3: property-added:" "nothing was published"
run 1 publish --data fwd v11-removed.yaml
has "property-removed: property orders.total"
contract 1.1.0 "      - name: total
        logicalType: number" 100 >v11-tight.yaml
run 0 publish --data fwd v11-tight.yaml
has "published  fwd/orders 1.1.0"
ok "charter init --compatibility FORWARD (charter show says so): publish refuses a loosened bound, an added and a removed property, and accepts a tightened bound"
# ---- publishing through a node (Admin/Publish) --------------------------------------------------
"$mycel" init --dir node --domain sales --key sales/key.secret --charter sales/charter.mcc >/dev/null
coproc DAEMON { exec "$myceld" --data node --listen tcp://127.0.0.1:0 2>daemon.log; }
dpid=$DAEMON_PID
read -r -t 30 -u "${DAEMON[0]}" ready || fail "myceld printed no ready line: $(cat daemon.log)"
ADMIN=$(sed -n 's/.*admin=\([^ ]*\).*/\1/p' <<<"$ready")
[[ "$ADMIN" == ipc://* ]] || fail "ready line: $ready"
run 0 publish --node "$ADMIN" v1.yaml
run 1 publish --node "$ADMIN" v11-removed.yaml
has "FAILED_PRECONDITION" "v11-removed.yaml:10:7: /schema/0/properties/2: property-removed:" "nothing was published"
run 1 get --node "$ADMIN" sales/orders --version 1.1.0
has "NOT_FOUND"
ok "publish --node (Admin/Publish): the breaking minor version is refused with the list, nothing stored"
run 0 publish --node "$ADMIN" v2.yaml
has "published  sales/orders 2.0.0"
ok "publish --node: the major version is published"
stop_daemon

echo "1..$n"
