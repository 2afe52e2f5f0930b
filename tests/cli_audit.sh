#!/usr/bin/env bash
# cli_audit.sh — mycel audit and mycel verify BUNDLE, as an auditor runs them: a bundle
# written from a store (--data) and through a running node (--node: the same bytes),
# verified offline with what it proves (owner, since, charter, versions), refused with
# where when one byte is flipped or the file is cut; usage errors exit 2; a product
# transfer (mycel transfer, mycel accept): pending while the bundle lacks the acceptance,
# then the receiver is the owner since its acceptance, from either domain's side. The daemon is
# started on tcp://127.0.0.1:0, awaited through its `ready` line and killed by its pid.
#
#   tests/cli_audit.sh MYCEL_BINARY MYCELD_BINARY      (run from the source root)
set -euo pipefail
mycel=$(realpath "$1")
MYCEL=$mycel
LIB=$(realpath tests/cli_lib.sh)
myceld=$(realpath "$2")
mesh=$PWD/examples/mesh
work=$(mktemp -d /tmp/mycel-cli-audit.XXXXXX)
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
# flip FILE OFFSET: xor one byte of FILE with 0x01, in place
flip() {
	python3 - "$1" "$2" <<'PY'
import sys
p, i = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, 'rb').read())
b[i] ^= 1
open(p, 'wb').write(b)
PY
}

# a mesh of two domains; sales publishes its documents, a new version, a deprecation
sales_pk=$("$mycel" keygen --out sales.key)
customers_pk=$("$mycel" keygen --out customers.key)
args=(--mesh acme --threshold 1 --member gov="$("$mycel" keygen --out gov.key)")
args+=(--domain sales="$sales_pk" --domain customers="$customers_pk")
"$mycel" charter init "${args[@]}" --out acme.mcc >/dev/null
"$mycel" charter sign acme.mcc --key gov.key >/dev/null
"$mycel" init --dir sales --domain sales --key sales.key --charter acme.mcc >/dev/null
"$mycel" profile --data sales --title Sales >/dev/null
"$mycel" publish --data sales "$mesh"/sales/contracts/*.yaml "$mesh"/sales/products/*.yaml >/dev/null
sed 's/^version: 2.1.0$/version: 2.2.0/' "$mesh/sales/contracts/orders.odcs.yaml" >orders-2.2.yaml
"$mycel" publish --data sales orders-2.2.yaml >/dev/null
"$mycel" deprecate --data sales sales/sales-orders --version 2.1.0 --reason "2.2.0 adds returns" >/dev/null

# ---- audit from the store, verify offline ----------------------------------------------------
run 0 audit sales/sales-orders --data sales --out orders.mcb
has "orders.mcb: audit bundle of sales/sales-orders (contract)" "1 charter version(s), 1 feed(s)"
[ -s orders.mcb ] || fail "no bundle written"
ok "audit --data writes the bundle"

run 0 verify orders.mcb
has "subject       sales/sales-orders (contract)" "owner         sales, feed $sales_pk" \
	"owned since" "charter       version 1 of mesh acme" "admitted      since charter version 1" \
	"OK: every signature"
since=$(sed -n 's/^owned since .*(seq \([0-9]*\): the first version)$/\1/p' <<<"$OUT")
[ -n "$since" ] || fail "no owned since line"
grep -qE "^ +sales +2\.1\.0 +deprecated +$since " <<<"$OUT" || fail "2.1.0 deprecated, published at seq $since (owned since), not shown"
grep -qE '^ +sales +2\.2\.0 +active +[0-9]+ ' <<<"$OUT" || fail "2.2.0 active not shown"
has "transfers     0"
ok "verify BUNDLE prints the owner, since when, the charter and the version history"

run 0 verify --json orders.mcb
has '"ok":true' "\"owner_feed\":\"$sales_pk\"" '"id":"sales-orders"' '"version":"2.1.0","status":"deprecated"'
ok "verify --json BUNDLE"

# the node is not needed: the bundle alone, away from the domain directory
mkdir elsewhere && cp orders.mcb elsewhere/ && (cd elsewhere && "$mycel" verify orders.mcb >/dev/null) ||
	fail "verify needs more than the bundle"
ok "verify BUNDLE needs nothing but the file"

# ---- tampering ------------------------------------------------------------------------------------
size=$(stat -c %s orders.mcb)
for off in 0 40 $((size / 3)) $((size / 2)) $((size - 40)) $((size - 1)); do
	cp orders.mcb bad.mcb
	flip bad.mcb "$off"
	run 1 verify bad.mcb
	has "FAIL bad.mcb: bundle: "
	run 1 verify --json bad.mcb
	has '"ok":false' '"message":"bundle: '
done
ok "a bundle with one byte flipped (6 places) fails verify (exit 1) and says where"
head -c $((size - 100)) orders.mcb >cut.mcb
run 1 verify cut.mcb
has "FAIL cut.mcb: bundle: byte"
ok "a cut bundle fails verify with the byte where it ends"

# ---- usage and refusals -------------------------------------------------------------------------
run 2 audit sales/sales-orders --data sales
run 2 audit sales --data sales --out x.mcb
run 2 audit --data sales --out x.mcb
run 2 verify orders.mcb --data sales
run 2 verify a.mcb b.mcb
ok "usage errors exit 2"
run 1 audit sales/nosuch --data sales --out x.mcb
has "nosuch"
run 1 audit hr/x --data sales --out x.mcb
has "hr"
[ ! -e x.mcb ] || fail "a refused audit wrote a file"
run 1 verify missing.mcb
has "missing.mcb"
run 1 verify acme.mcc
has "FAIL acme.mcc: bundle: "
ok "an unknown document or domain, a missing file, a charter file instead of a bundle: exit 1"

# ---- through a node: the same bundle --------------------------------------------------------------
coproc DAEMON { exec "$myceld" --data sales --listen tcp://127.0.0.1:0 2>daemon.log; }
dpid=$DAEMON_PID
read -r -t 30 -u "${DAEMON[0]}" ready || fail "myceld printed no ready line: $(cat daemon.log)"
URL=$(sed -n 's/.*url=\([^ ]*\).*/\1/p' <<<"$ready")
[[ "$URL" == tcp://127.0.0.1:* ]] || fail "ready line: $ready"
run 0 audit sales/sales-orders --node "$URL" --out node.mcb
cmp -s node.mcb orders.mcb || fail "the bundle through the node differs from the one from the store"
ok "audit --node writes the same bytes as audit --data"
run 1 audit sales/nosuch --node "$URL" --out y.mcb
has "nosuch"
stop_daemon
ok "audit --node of an unknown document: exit 1"

# ---- a product transfer (PROTOCOL.md §5.5): sales offers, customers accepts -------------------------
P=sales/sales-performance
"$mycel" init --dir customers --domain customers --key customers.key --charter acme.mcc >/dev/null
run 0 transfer $P --to customers --data sales
offer_seq=$(sed -n 's/.*(transfer, seq \([0-9]*\)).*/\1/p' <<<"$OUT")
[ -n "$offer_seq" ] || fail "no seq in the transfer's output"
# sales does not hold customers' feed: the bundle cannot show an acceptance, so no transfer
run 0 audit $P --data sales --out offered.mcb
has "(product): 1 charter version(s), 1 feed(s)"
run 0 verify offered.mcb
has "owner         sales, feed $sales_pk" "transfers     0" \
	"pending       offered by sales to customers at seq $offer_seq (" \
	"acceptance not in the bundle (its feed is not in the bundle): the owner shown is the giver"
ok "audit of an offered product, the receiver's feed not held: the offer is pending, sales owns it"

run 0 pull --data customers --from sales
run 0 accept $P --data customers
run 0 pull --data sales --from customers
run 0 audit $P --data sales --out transferred.mcb
has "(product): 1 charter version(s), 2 feed(s)"
run 0 verify transferred.mcb
has "subject       sales/sales-performance (product)" "owner         customers, feed $customers_pk" \
	"transfers     1" "OK: every signature"
grep -qE "^owned since .* \(seq 1 of the feed of customers: its acceptance of the transfer from sales\)$" <<<"$OUT" ||
	fail "owned since: not customers' acceptance"
grep -qE "^ +sales -> customers: offered at seq $offer_seq \(.*\), accepted at seq 1 \(.*\)$" <<<"$OUT" ||
	fail "the transfer line"
grep -qE '^ +sales +[0-9.]+ +active +[0-9]+ ' <<<"$OUT" || fail "sales' version not shown"
if grep -q "^pending" <<<"$OUT"; then fail "a pending offer shown after the acceptance"; fi
run 0 verify --json transferred.mcb
has '"owner":"customers"' "\"owner_feed\":\"$customers_pk\"" '"since_seq":1' \
	"\"transfers\":[{\"from\":\"sales\",\"to\":\"customers\",\"offer_seq\":$offer_seq," '"accept_seq":1,'
ok "audit after the acceptance: customers owns it since its acceptance, the transfer listed"

# from the receiver's side: its store holds sales' feed (pulled), which travels too
run 0 audit customers/sales-performance --data customers --out received.mcb
has "audit bundle of customers/sales-performance (product)" "2 feed(s)"
run 0 verify received.mcb
has "subject       customers/sales-performance (product)" "owner         customers, feed $customers_pk" \
	"transfers     1"
ok "audit customers/ID of the received product: the giver's feed travels, customers owns it"

# through a node holding both feeds: the same bytes
coproc DAEMON { exec "$myceld" --data sales --listen tcp://127.0.0.1:0 2>daemon.log; }
dpid=$DAEMON_PID
read -r -t 30 -u "${DAEMON[0]}" ready || fail "myceld printed no ready line: $(cat daemon.log)"
URL=$(sed -n 's/.*url=\([^ ]*\).*/\1/p' <<<"$ready")
run 0 audit $P --node "$URL" --out node-xfer.mcb
cmp -s node-xfer.mcb transferred.mcb || fail "the transfer's bundle through the node differs"
stop_daemon
ok "audit --node follows the transfer to the receiver's feed: the same bytes as --data"
echo "1..$n"
