#!/usr/bin/env bash
# cli_node.sh — every catalog command of mycel against a running node (--node URL) and
# directly on its store (--data DIR), compared byte for byte (text and --json); writes over
# the node read back directly; $MYCEL_NODE and the ./.mycel default; the local-only
# commands refuse --node. The daemon is started on tcp://127.0.0.1:0 and its admin ipc
# socket in a temp directory, awaited through its `ready` line, and killed by its pid.
#
#   tests/cli_node.sh MYCEL_BINARY MYCELD_BINARY      (run from the source root)
set -euo pipefail
mycel=$(realpath "$1")
myceld=$(realpath "$2")
mesh=$PWD/examples/mesh
work=$(mktemp -d /tmp/mycel-cli-node.XXXXXX)
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
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
fail() { echo "not ok - $*"; exit 1; }

# run OUT ARGS...: mycel's stdout in OUT, stderr in OUT.err, exit code in OUT.rc
run() {
	local out=$1
	shift
	local rc=0
	"$mycel" "$@" >"$out" 2>"$out.err" || rc=$?
	echo "$rc" >"$out.rc"
}
# same LABEL ARGS...: the command gives byte-identical output, errors and exit code
# with --data sales and with --node $URL
same() {
	local label=$1
	shift
	run d.out "$@" --data sales
	run n.out "$@" --node "$URL"
	for f in out out.err out.rc; do
		cmp -s "d.$f" "n.$f" || fail "$label: --data and --node differ ($f): $(diff "d.$f" "n.$f" | head -6)"
	done
}

# a mesh of two domains; sales holds the customers feed too (lineage crosses domains)
args=(--mesh acme --threshold 1 --member gov="$("$mycel" keygen --out gov.key)")
for d in sales customers; do args+=(--domain "$d=$("$mycel" keygen --out $d.key)"); done
"$mycel" charter init "${args[@]}" --out acme.mcc >/dev/null
"$mycel" charter sign acme.mcc --key gov.key >/dev/null
for d in sales customers; do
	"$mycel" init --dir $d --domain $d --key $d.key --charter acme.mcc >/dev/null
	"$mycel" publish --data $d "$mesh/$d"/contracts/*.yaml "$mesh/$d"/products/*.yaml >/dev/null
done
"$mycel" pull --data sales --from customers >/dev/null

# the node, serving sales; wait for its ready line (no sleeping)
coproc DAEMON { exec "$myceld" --data sales --listen tcp://127.0.0.1:0 2>daemon.log; }
dpid=$DAEMON_PID
read -r -t 30 -u "${DAEMON[0]}" ready || fail "myceld printed no ready line: $(cat daemon.log)"
URL=$(sed -n 's/.*url=\([^ ]*\).*/\1/p' <<<"$ready")
ADMIN=$(sed -n 's/.*admin=\([^ ]*\).*/\1/p' <<<"$ready")
[[ "$URL" == tcp://127.0.0.1:* && "$ADMIN" == ipc://* ]] || fail "ready line: $ready"
ok "myceld serves sales on $URL and $ADMIN"

# ---- reads: the same bytes both ways -------------------------------------------------------
for j in "" --json; do
	same "get $j" get sales/sales-orders $j
	same "get --doc $j" get sales/sales-orders --doc $j
	same "get --version $j" get customers/customers-profiles --version 1.0.0 $j
	same "search $j" search orders $j
	same "search filters $j" search --kind product --domain customers --all --limit 5 $j
	same "search tag $j" search --tag orders --status active $j
	same "search facets $j" search --facets $j
	same "search nothing $j" search zzzyzzyx $j
	same "lineage up $j" lineage sales/sales-order-management --up --depth 3 $j
	same "lineage down $j" lineage customers/customers-profiles --down --depth 4 $j
	same "log $j" log $j
	same "log DOMAIN $j" log customers $j
done
ok "get, search (filters, facets), lineage and log print the same with --node and --data (text and --json)"
grep -q "signature  verified" <(run x get sales/sales-orders --node "$URL"; cat x) || fail "get over the node is not verified"
ok "get over the node shows the entry verified against the charter"

same "get missing" get sales/nope
grep -qx "mycel: get: NOT_FOUND: sales/nope is not published" n.out.err || fail "get missing: $(cat n.out.err)"
[ "$(cat n.out.rc)" = 1 ] || fail "get missing exits $(cat n.out.rc)"
same "get missing version" get sales/sales-orders --version 9.9.9
same "lineage missing" lineage sales/nope
same "log no such domain" log nosuch
[ "$(cat n.out.rc)" = 1 ] || fail "log of an unknown domain exits 0"
ok "errors are identical both ways: mycel: CMD: STATUS: message, exit 1"

for j in "" --json; do
	run d.out status --data sales $j
	run n.out status --node "$URL" $j
	grep -v '^peers\|^uptime' n.out | sed 's/,"peers":[0-9]*//; s/,"uptime_ms":[0-9]*//; s/,"peer_list":\[[^]]*\]//' >n.cut
	cmp -s d.out n.cut || fail "status $j: $(diff d.out n.cut)"
done
run n.out status --node "$URL"
grep -q '^mesh       acme (charter v1)' n.out && grep -q '^feeds      2' n.out && grep -q '^peers      0' n.out ||
	fail "status: $(cat n.out)"
ok "status: mesh, charter, feeds, entries, documents the same both ways; the node adds its peers"

for j in "" --json; do
	run d.out verify --data sales $j
	run n.out verify --node "$URL" $j
	sed "s#$URL#sales/store#" n.out >n.cut
	cmp -s d.out n.cut || fail "verify $j: $(diff d.out n.cut)"
done
run n.out verify --node "$URL"
[ "$(cat n.out.rc)" = 0 ] && grep -q '^OK: every signature' n.out || fail "verify --node: $(cat n.out n.out.err)"
ok "verify --node pulls every feed and checks it here: same counts and verdict as verify --data"

# ---- trust: pinning the mesh id ---------------------------------------------------------------
MID=$("$mycel" status --node "$URL" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["mesh_id"])')
run x get sales/sales-orders --node "$URL" --mesh-id "$MID"
[ "$(cat x.rc)" = 0 ] || fail "get pinned to the node's own mesh id: $(cat x.err)"
BAD=$(python3 -c "import sys; m='$MID'; print(('0' if m[0] != '0' else '1') + m[1:])")
run x get sales/sales-orders --node "$URL" --mesh-id "$BAD"
[ "$(cat x.rc)" = 1 ] && grep -q "pinned" x.err || fail "a wrong --mesh-id was accepted: $(cat x.err)"
run x get sales/sales-orders --node "$URL" --no-verify
grep -q "not checked" x || fail "--no-verify: $(cat x)"
ok "--mesh-id pins the charter (a wrong one is refused, exit 1); --no-verify says it did not check"

# ---- writes over the admin socket, read back directly -----------------------------------------------
sed 's/^version: 2.1.0/version: 2.2.0/' "$mesh/sales/contracts/orders.odcs.yaml" >orders-2.2.odcs.yaml
sed 's/^version: .*/version: 1.9.0/' "$mesh/sales/contracts/returns.odcs.yaml" >returns-1.9.odcs.yaml
run x publish orders-2.2.odcs.yaml returns-1.9.odcs.yaml --node "$ADMIN"
[ "$(cat x.rc)" = 0 ] || fail "publish over the node: $(cat x.err)"
grep -q "^published  sales/sales-orders 2.2.0 (contract, seq " x && grep -q "^published  sales/sales-returns 1.9.0" x ||
	fail "publish over the node: $(cat x)"
run x get sales/sales-orders --data sales
grep -q "version 2.2.0" x || fail "the version published over the node is not in the store: $(cat x)"
ok "publish of two files over the admin socket; read back directly from the store"
run d.out publish orders-2.2.odcs.yaml --data sales
run n.out publish orders-2.2.odcs.yaml --node "$ADMIN"
cmp -s d.out n.out && grep -q "^unchanged  sales/sales-orders 2.2.0" n.out || fail "republish: $(diff d.out n.out)"
run d.out publish --json orders-2.2.odcs.yaml --data sales
run n.out publish --json orders-2.2.odcs.yaml --node "$ADMIN"
cmp -s d.out n.out || fail "republish --json: $(diff d.out n.out)"
ok "publishing the same version again: unchanged, the same output both ways (text and --json)"

sed 's/^name: .*/name: Renamed/' orders-2.2.odcs.yaml >edit.odcs.yaml
sed 's/logicalType: string/logicalType: strng/' "$mesh/sales/contracts/daily-sales.odcs.yaml" >bad.odcs.yaml
before=$("$mycel" log sales --json --data sales | wc -l)
for f in edit.odcs.yaml bad.odcs.yaml; do
	run d.out publish "$f" --data sales
	run n.out publish "$f" --node "$ADMIN"
	cmp -s d.out.err n.out.err && cmp -s d.out.rc n.out.rc || fail "refused publish of $f: $(diff d.out.err n.out.err)"
	[ "$(cat n.out.rc)" = 1 ] || fail "publish of $f exits $(cat n.out.rc)"
	[ "$f" = bad.odcs.yaml ] || grep -q "bump the version" n.out.err || fail "immutability: $(cat n.out.err)"
done
grep -q "^mycel: publish: INVALID_ARGUMENT: bad.odcs.yaml: document 1 of 1 is not valid" n.out.err ||
	fail "invalid document message: $(cat n.out.err)"
grep -qE '^bad.odcs.yaml:[0-9]+:[0-9]+: /schema/0/properties/[0-9]+/logicalType: "strng"' n.out.err ||
	fail "findings: $(cat n.out.err)"
run x publish "$mesh/sales/contracts/daily-sales.odcs.yaml" bad.odcs.yaml --node "$ADMIN"
[ "$(cat x.rc)" = 1 ] || fail "a batch with an invalid file was accepted"
[ "$("$mycel" log sales --json --data sales | wc -l)" = "$before" ] || fail "a refused publish wrote entries"
ok "refused publishes (changed content, invalid document, a batch with one) print the same both ways and write nothing"

run x deprecate sales/sales-returns --version 1.9.0 --reason "use 1.0.2" --node "$ADMIN"
grep -qE "^deprecated sales/sales-returns 1.9.0 \(lifecycle, seq [0-9]+\)$" x || fail "deprecate over the node: $(cat x) $(cat x.err)"
run x get sales/sales-returns --version 1.9.0 --data sales
grep -q "1.9.0        deprecated" x || fail "the deprecation is not in the store: $(cat x)"
run d.out retire customers/customers-profiles --version 1.0.0 --data sales
run n.out retire customers/customers-profiles --version 1.0.0 --node "$ADMIN"
cmp -s d.out.err n.out.err && grep -q "belongs to domain customers; only its owner" n.out.err ||
	fail "retire of another domain's document: $(cat n.out.err)"
run d.out deprecate sales/sales-returns --version 1.9.0 --data sales
run n.out deprecate sales/sales-returns --version 1.9.0 --node "$ADMIN"
cmp -s d.out.err n.out.err && [ "$(cat n.out.rc)" = 1 ] || fail "deprecating twice: $(diff d.out.err n.out.err)"
ok "deprecate over the node lands in the store; refusals (another domain, twice) are the same both ways"

run x reindex --node "$URL"
[ "$(cat x.rc)" = 1 ] && grep -q "PERMISSION_DENIED" x.err || fail "reindex over tcp: $(cat x.err)"
run d.out search orders --all --json --data sales
run x reindex --node "$ADMIN"
grep -q "^reindexed $ADMIN: every derived table rebuilt from the feeds" x || fail "reindex: $(cat x) $(cat x.err)"
run n.out search orders --all --json --node "$URL"
cmp -s d.out n.out || fail "reindex over the node changed answers"
ok "reindex: refused on the public socket, done on the admin socket, same answers after"

run x peers --node "$ADMIN"
grep -q "knows no peers yet" x || fail "peers: $(cat x)"
run x peers --data sales
[ "$(cat x.rc)" = 1 ] && grep -q "known only to the node" x.err || fail "peers --data: $(cat x.err)"
ok "peers asks the node; on a store read directly it says why it cannot answer (exit 1)"

# ---- target resolution ---------------------------------------------------------------------------------
MYCEL_NODE=$URL "$mycel" status >env.out
grep -q '^peers' env.out || fail "\$MYCEL_NODE was not used: $(cat env.out)"
MYCEL_NODE=$URL "$mycel" status --data sales >envdata.out
grep -q '^peers' envdata.out && fail "--data did not win over \$MYCEL_NODE"
mkdir here && ln -s ../sales here/.mycel
(cd here && "$mycel" status >../dflt.out)
grep -q '^peers' dflt.out || fail "./.mycel served by myceld was not reached through its admin socket"
(cd here && "$mycel" publish --dry-run "$mesh/sales/contracts/orders.odcs.yaml" >../dry.out)
grep -q "^valid      sales/sales-orders 2.1.0" dry.out || fail "dry run through ./.mycel: $(cat dry.out)"
ok "\$MYCEL_NODE, --data over it, and ./.mycel through its admin socket while myceld runs"

for c in "lint bad.odcs.yaml" "keygen --out k2" "pull --from customers" "charter show acme.mcc"; do
	run x $c --node "$URL"
	[ "$(cat x.rc)" = 2 ] && grep -q "works on local files only: --node does not apply" x.err ||
		fail "$c --node: rc $(cat x.rc) $(cat x.err)"
done
ok "local-only commands (lint, keygen, pull, charter) refuse --node with a clear message (exit 2)"

# ---- key rotation through the node's admin socket ---------------------------------------------------
run x key rotate --node "$URL"
[ "$(cat x.rc)" = 1 ] && grep -q "PERMISSION_DENIED" x.err || fail "key rotate over tcp: $(cat x.err)"
run x key rotate --node "$ADMIN"
[ "$(cat x.rc)" = 0 ] && grep -q "^rotated   sales" x && [ -e sales/key.secret.1.old ] ||
	fail "key rotate --node ADMIN: rc $(cat x.rc) $(cat x x.err)"
"$mycel" deprecate sales/sales-orders --version 2.1.0 --reason rotated --node "$ADMIN" >dep.out ||
	fail "deprecate after the rotation: $(cat dep.out)"
for u in "$URL" "$ADMIN"; do
	run x verify --node "$u"
	[ "$(cat x.rc)" = 0 ] && grep -q "^OK" x || fail "verify --node $u after a rotation: $(cat x x.err)"
done
same "get after rotation" get sales/sales-orders
grep -q "deprecated" n.out || fail "get after rotation: $(cat n.out)"
ok "key rotate over the admin socket (not tcp); the node signs with the next key at once; get and verify --node check every entry under the key of its seq"

# ---- a product transfer offered through the node ----------------------------------------------------
run x transfer sales/sales-order-management --to customers --node "$URL"
[ "$(cat x.rc)" = 1 ] && grep -q "PERMISSION_DENIED" x.err || fail "transfer over tcp: $(cat x.err)"
run x transfer sales/sales-order-management --to customers --node "$ADMIN"
[ "$(cat x.rc)" = 0 ] && grep -q "^offered   sales/sales-order-management to customers" x ||
	fail "transfer --node ADMIN: rc $(cat x.rc) $(cat x x.err)"
"$mycel" pull --data customers --from sales >/dev/null
run x accept sales/sales-order-management --data customers
[ "$(cat x.rc)" = 0 ] || fail "accept --data customers: $(cat x x.err)"
run x transfer sales/sales-order-management --to customers --node "$ADMIN"
[ "$(cat x.rc)" = 1 ] && grep -q "already offered to customers" x.err || fail "second offer: $(cat x.err)"
ok "transfer over the admin socket (not tcp); the receiving domain accepts it from its own directory"

stop_daemon
(cd here && "$mycel" status >../dflt2.out)
grep -q '^peers' dflt2.out && fail "with myceld stopped, ./.mycel is still reached through a node"
run x status --node "$URL" --timeout 2000
[ "$(cat x.rc)" = 1 ] || fail "status of a stopped node exits $(cat x.rc)"
ok "with the daemon stopped: ./.mycel is read directly, and --node fails (exit 1)"
echo "$n checks passed"
