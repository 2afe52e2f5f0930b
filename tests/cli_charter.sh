#!/usr/bin/env bash
# cli_charter.sh — charter evolution with the mycel command, offline, as members do it
# (docs/governance.md): 3 members, threshold 2; a new domain admitted (alice and bob sign
# copies on their own machines, the copies are merged), applied to a store, the new domain
# publishes; a domain removed; a domain key declared compromised with a cut; bad input.
# With PATH/TO/myceld, last: apply to a running node (through its admin socket), which is
# started on tcp://127.0.0.1:0, awaited through its ready line and ended by its pid.
# Usage: tests/cli_charter.sh PATH/TO/mycel [PATH/TO/myceld]   (run from the source root)
set -euo pipefail

MYCEL=$(realpath "$1")
LIB=$(realpath tests/cli_lib.sh)
MYCELD=${2:+$(realpath "$2")}
EX=$(realpath examples/mesh)
T=$(mktemp -d /tmp/mycel-charter-XXXXXX)
dpid=
stop_daemon() {
	if [ -n "$dpid" ]; then
		kill "$dpid" 2>/dev/null || true
		wait "$dpid" 2>/dev/null || true
		dpid=
	fi
}
trap 'stop_daemon; rm -rf "$T"' EXIT
cd "$T"
export NO_COLOR=1

. "$LIB"

# ---- the mesh: alice, bob, carol (2 of 3) govern; sales publishes -------------------------
for k in alice bob carol mallory sales marketing sales2; do
	"$MYCEL" keygen --out $k.key >$k.pub
done
pk() { cat "$1.pub"; }
run 0 charter init --mesh acme --member alice="$(pk alice)" --member bob="$(pk bob)" \
	--member carol="$(pk carol)" --threshold 2 --domain sales="$(pk sales)" --out v1.mcc
run 0 charter sign v1.mcc --key alice.key
run 0 charter sign v1.mcc --key bob.key
has "reached"
run 0 init --dir S --domain sales --key sales.key --charter v1.mcc
sed 's/^version: .*/version: 2.1.0/' "$EX/sales/contracts/orders.odcs.yaml" >o1.yaml
sed 's/^version: .*/version: 2.2.0/' "$EX/sales/contracts/orders.odcs.yaml" >o2.yaml
sed 's/^version: .*/version: 2.3.0/' "$EX/sales/contracts/orders.odcs.yaml" >o3.yaml
for f in o1 o2 o3; do run 0 publish $f.yaml --data S; done
ok "genesis v1 (alice, bob, carol; 2 of 3; sales), sales published 3 versions"

# ---- admit marketing: prepared once, signed on each member's machine, merged -------------
run 0 charter admit v1.mcc --domain marketing="$(pk marketing)" --out v2.mcc
has "charter v2" "unsigned" "+ domain marketing"
mkdir alice-laptop bob-laptop
cp v2.mcc alice-laptop/v2.mcc
cp v2.mcc bob-laptop/v2.mcc
run 0 charter sign alice-laptop/v2.mcc --key alice.key
run 0 charter show alice-laptop/v2.mcc --prev v1.mcc
has "signed by  alice" \
	"needs 1 more signature of version 1's members (has alice; needs 2 of alice, bob, carol)"
hasnt "valid (both"
ok "admit writes the unsigned v2; with alice's signature alone show says what is missing"
run 0 charter show alice-laptop/v2.mcc
has "give --prev"
ok "show without --prev cannot verify a version > 1 and says so"
run 0 charter sign bob-laptop/v2.mcc --key bob.key
run 0 charter merge alice-laptop/v2.mcc bob-laptop/v2.mcc --out v2-signed.mcc
has "2 signature(s)"
run 0 charter show v2-signed.mcc --prev v1.mcc
has "signed by  alice, bob" "valid (both thresholds reached: a valid step from v1)"
run 0 charter show v2-signed.mcc --prev v1.mcc --json
python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
assert d["valid"] is True and d["version"] == 2, d
assert sorted(d["signers"]) == ["alice", "bob"], d
assert d["prev_signatures"] == 2 and d["own_signatures"] == 2, d
assert [x["name"] for x in d["domains"]] == ["sales", "marketing"], d
' <<<"$OUT" || fail "charter show --json"
ok "bob's copy and alice's merge into a valid v2 (show, show --json)"

# merging copies of different charters is refused, nothing written
run 0 charter admit v1.mcc --domain marketing="$(pk mallory)" --out other.mcc
run 0 charter sign other.mcc --key carol.key
run 1 charter merge v2-signed.mcc other.mcc --out bad-merge.mcc
has "not the same charter"
[ ! -e bad-merge.mcc ] || fail "a refused merge wrote its output"
ok "merge refuses copies of different charters (exit 1), writes nothing"

# ---- apply ---------------------------------------------------------------------------------
run 1 charter apply alice-laptop/v2.mcc --data S
has "alice-laptop/v2.mcc" "threshold" "nothing changed"
run 0 charter show --data S
has "version    1"
ok "apply of a version short of signatures fails (exit 1) and changes nothing"
run 0 charter apply v2-signed.mcc --data S
has "charter v2 in force"
run 0 charter apply v2-signed.mcc --data S
has "charter v2 in force"
ok "apply adopts the signed v2 (again: nothing changes)"

# marketing joins with the chain, publishes; its entries reach the sales store
run 0 init --dir MK --domain marketing --key marketing.key --charter v1.mcc --charter v2-signed.mcc
has "charter v2"
run 0 publish "$EX/marketing/contracts/campaigns.odcs.yaml" --data MK
run 0 pull --from MK --data S
has "1 new entries"
run 0 search --data S --domain marketing
has "marketing/marketing-campaigns" "1 of 1"
run 0 verify --data S
ok "marketing (admitted in v2) publishes; the store that adopted v2 takes its entries"
run 1 init --dir MK2 --domain marketing --key marketing.key --charter v1.mcc
has "does not admit domain \"marketing\""
ok "init with the genesis alone still refuses the domain v1 does not admit"

# ---- remove marketing ------------------------------------------------------------------------
run 0 charter remove v2-signed.mcc --domain marketing --out v3.mcc
has "- domain marketing"
run 0 charter sign v3.mcc --key carol.key
run 0 charter sign v3.mcc --key bob.key
run 0 charter apply v3.mcc --data S
run 0 search --data S
hasnt "marketing/"
has "sales/sales-orders"
run 1 get marketing/marketing-campaigns --data S
has "domain marketing was removed in charter version 3"
run 0 log --data S
hasnt "feed:$(pk marketing | cut -c1-16)"
run 0 verify --data S
has "2 feed(s), 4 entries" "OK"
ok "v3 removes marketing: search hides it, get says it was removed in v3, its history verifies"

# ---- compromise: sales' key leaked after seq 2 ----------------------------------------------
run 0 charter compromise v3.mcc --domain sales --seq 2 --successor "$(pk sales2)" --out v4.mcc
has "feed compromised after seq 2"
run 0 charter sign v4.mcc --key alice.key
run 0 charter sign v4.mcc --key carol.key
run 0 charter show v4.mcc --prev v3.mcc
has "valid up to seq 2" "valid (both thresholds"
cp -r S S-before-v4 # a copy that still holds seq 3
run 0 charter apply v4.mcc --data S
run 0 get sales/sales-orders --data S
has "version 2.2.0" "seq 2"
hasnt "2.3.0"
sed 's/^version: .*/version: 2.4.0/' "$EX/sales/contracts/orders.odcs.yaml" >o4.yaml
run 1 publish o4.yaml --data S
has "compromised"
run 0 verify --data S
has "OK"
ok "v4 cuts sales after seq 2: seq 3 is gone, the old key publishes nothing more, verify OK"
run 0 pull --from S-before-v4 --data S
has "0 new entries"
run 0 pull --from S --data S-before-v4
has "1 charter version(s)"
run 0 get sales/sales-orders --data S-before-v4
has "version 2.2.0"
hasnt "2.3.0"
run 0 verify --data S-before-v4
ok "pull skips what lies beyond the cut and the removed domain's feed; pulling v4 cuts the copy"
run 0 init --dir S2 --domain sales --key sales2.key --charter v1.mcc --charter v2-signed.mcc \
	--charter v3.mcc --charter v4.mcc
run 0 publish o4.yaml --data S2
run 0 pull --from S2 --data S
run 0 get sales/sales-orders --data S
has "version 2.4.0" "$(pk sales2)"
run 0 reindex --data S
run 0 get sales/sales-orders --data S
has "version 2.4.0"
ok "the successor key publishes as sales; reindex gives the same"

# ---- policies and members ----------------------------------------------------------------------
run 0 charter set-policy v4.mcc --id owner --severity deny --expr 'has(contract.team)' \
	--message "every contract names its team" --out v5.mcc
has "+ policy owner" "policies 0 -> 1"

run 0 charter show v5.mcc
has "owner" "deny"
run 0 charter set-policy v5.mcc --remove owner --out v6.mcc
has "- policy owner" "policies 1 -> 0"
run 0 charter set-policy v5.mcc --id owner --severity warn --expr 'has(contract.team)' \
	--message "should name an owner" --out v6w.mcc
has "~ policy owner"
hasnt "policies 1 -> 1"
run 1 charter set-policy v5.mcc --remove nope --out x.mcc
has "no policy \"nope\""
run 0 charter members v4.mcc --add-member dave="$(pk mallory)" --remove-member carol \
	--threshold 2 --out v5m.mcc
has "+ member dave" "- member carol"
run 0 charter sign v5m.mcc --key alice.key
run 0 charter show v5m.mcc --prev v4.mcc
has "needs 1 more signature of version 4's members (has alice; needs 2 of alice, bob, carol)"
run 0 charter sign v5m.mcc --key carol.key
run 0 charter show v5m.mcc --prev v4.mcc
has "needs 1 more signature of version 5's members (has alice; needs 2 of alice, bob, dave)"
run 0 charter sign v5m.mcc --key mallory.key
run 0 charter show v5m.mcc --prev v4.mcc
has "valid (both thresholds"
ok "set-policy adds and removes; members: carol signs for v4's members but not v5's (TUF)"

# ---- bad input: clear errors, nothing written ----------------------------------------------------
run 2 charter admit v4.mcc --domain marketing=12 --out x.mcc
has "NAME=PUBKEY"
run 1 charter remove v4.mcc --domain nope --out x.mcc
has "admits no domain \"nope\""
run 2 charter compromise v4.mcc --domain sales2 --successor "$(pk mallory)" --out x.mcc
run 2 charter set-policy v4.mcc --id p --severity block --expr true --message m --out x.mcc
has "deny or warn"
run 1 charter set-policy v4.mcc --id p --severity deny --expr 'has(contract.id' --message m --out x.mcc
has "policy p: --expr 1:"
run 1 charter set-policy v4.mcc --id p --severity deny --expr 'has(contract.shema)' --message m \
	--out x.mcc
has "no field 'shema'" "did you mean 'schema'"
[ ! -e x.mcc ] || fail "a refused set-policy wrote x.mcc"
run 1 charter members v4.mcc --remove-member alice --remove-member bob --out x.mcc
has "/threshold"
run 1 charter admit v4.mcc --domain sales=$(pk sales) --out x.mcc
has "compromised"
[ ! -e x.mcc ] || fail "a refused change wrote its output"
run 1 charter admit v4.mcc --domain x="$(pk mallory)" --out v5.mcc
has "already exists"
head -c 100 v4.mcc >trunc.mcc
run 1 charter apply trunc.mcc --data S
has "trunc.mcc"
run 1 charter apply v6.mcc --data S
has "versions step by one"
run 0 charter show --data S
has "version    4"
ok "bad changes: exit 2 for malformed arguments, 1 naming the problem; no output written"

# ---- apply to a running node ------------------------------------------------------------------
if [ -n "$MYCELD" ]; then
	coproc DAEMON { exec "$MYCELD" --data S --listen tcp://127.0.0.1:0 2>daemon.log; }
	dpid=$DAEMON_PID
	read -r -t 30 -u "${DAEMON[0]}" ready || fail "myceld printed no ready line: $(cat daemon.log)"
	URL=$(sed -n 's/.*url=\([^ ]*\).*/\1/p' <<<"$ready")
	[[ "$URL" == tcp://127.0.0.1:* ]] || fail "ready line: $ready"
	run 1 charter apply v6.mcc --node "$URL"
	has "PERMISSION_DENIED" "admin socket only"
	run 1 charter apply v6.mcc --data S
	has "versions step by one"
	run 0 charter apply v5m.mcc --data S
	has "ipc://" "charter v5 in force"
	run 0 status --node "$URL"
	has "charter v5"
	run 0 charter apply v5m.mcc --data S
	has "charter v5 in force"
	stop_daemon
	run 0 charter show --data S
	has "version    5"
	ok "apply --data on a directory a node serves goes through the node; over tcp it is refused"
fi
echo "1..$n"
