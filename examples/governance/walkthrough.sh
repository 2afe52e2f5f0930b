#!/usr/bin/env bash
# The governance walk-through: how a mesh governed by several people changes, step by step, with
# the real mycel command and its real output (README.md, "Governance, for a newcomer").
#
#   bash examples/governance/walkthrough.sh          (make governance; meson test governance-example)
#   MYCEL=path/to/mycel bash examples/governance/walkthrough.sh
#
# Three governance members (alice, bob, carol) sign a 2-of-3 charter binding the domain sales;
# they admit marketing (charter v2, signed on separate copies and merged), then add a policy that
# PII columns must be classified restricted (v3). Marketing's first contract breaks the policy
# and is refused; the fix is published; a breaking change as a minor version is refused and
# accepted as a major one; marketing rotates its key and publishes with the next one; sales
# pulls marketing's feed; an auditor checks an audit bundle offline, and a one-bit change to it.
#
# Everything runs in a temporary directory, removed at the end, on domain directories
# (--data DIR): no daemon, no network. Every step checks the exit code and the key lines of what
# mycel printed, so the script fails loudly (exit 1, naming the step) if mycel's behaviour changes:
# it is also a test.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
MYCEL=${MYCEL:-$root/build/node/mycel}
[ -x "$MYCEL" ] || {
	echo "walkthrough: no mycel at $MYCEL (build it with make, or set MYCEL)" >&2
	exit 1
}
MYCEL=$(cd "$(dirname "$MYCEL")" && pwd)/$(basename "$MYCEL")
export NO_COLOR=1
unset MYCEL_DATA MYCEL_NODE # every command below names its directory

work=$(mktemp -d "${TMPDIR:-/tmp}/mycel-governance.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
# marketing keeps its documents in its own repository; here, beside the domain directories
cp "$here"/*.odcs.yaml "$here"/*.odps.yaml "$here"/pii-restricted.cel .

if [ -t 1 ]; then
	B=$'\033[1m' N=$'\033[0m'
else
	B='' N=''
fi
STEP=''
step() {
	STEP=$1
	printf '\n%s== %s%s\n' "$B" "$*" "$N"
}
say() { printf '%s\n' "$@"; }
die() {
	printf 'walkthrough: FAILED in step "%s": %s\n' "$STEP" "$*" >&2
	[ -z "${OUT:-}" ] || printf -- '--- output of the last command:\n%s\n' "$OUT" >&2
	exit 1
}
# shown COMMAND ARGS...: the command line as a reader would type it (64-hex keys shortened), or
# $SHOW when the caller gives the words it typed
shown() {
	local a s=''
	if [ -n "${SHOW:-}" ]; then
		printf '$ %s\n' "$SHOW"
		return
	fi
	for a in "$@"; do
		if [[ "$a" =~ ^[A-Za-z0-9_./=:@,+-]+$ ]]; then
			s+=" $a"
		else
			s+=" '${a//\'/\'\\\'\'}'"
		fi
	done
	printf '$%s\n' "$s" | sed -E 's/([0-9a-f]{8})[0-9a-f]{56}/\1…/g'
}
# mycel WANT ARGS...: shows and runs `mycel ARGS`, prints what it printed (stdout and stderr,
# in $OUT) and checks that it exited WANT.
mycel() {
	local want=$1
	shift
	shown mycel "$@"
	RC=0
	OUT=$("$MYCEL" "$@" 2>&1) || RC=$?
	[ -z "$OUT" ] || printf '%s\n' "$OUT"
	[ "$RC" = "$want" ] || die "mycel $1 exited $RC, expected $want"
}
# expect TEXT...: each TEXT is in the last command's output
expect() {
	local t
	for t in "$@"; do
		grep -qF -- "$t" <<<"$OUT" || die "the output of the last command lacks: $t"
	done
}
# expect_not TEXT: TEXT is not in the last command's output
expect_not() {
	if grep -qF -- "$1" <<<"$OUT"; then die "the output of the last command has: $1"; fi
}

# -------------------------------------------------------------------------------------------------
step "1. Five keys: three governance members, two domains (each made on its owner's machine)"
for k in alice bob carol sales marketing; do
	mycel 0 keygen --out $k.key
	[[ "$OUT" =~ ^[0-9a-f]{64}$ ]] || die "keygen did not print a 64-hex public key"
	printf '%s' "$OUT" >$k.pub
done
pub() { cat "$1.pub"; }

step "2. The genesis charter: members alice, bob, carol, threshold 2, one domain (sales)"
mycel 0 charter init --mesh acme --member alice="$(pub alice)" --member bob="$(pub bob)" \
	--member carol="$(pub carol)" --threshold 2 --domain sales="$(pub sales)" --out acme-v1.mcc
expect "mesh acme, charter v1, 3 member(s), threshold 2, 1 domain(s), 0 signatures"
mycel 0 charter sign acme-v1.mcc --key alice.key
expect "1 signature(s), threshold 2"
expect_not "reached"
mycel 0 charter sign acme-v1.mcc --key bob.key
expect "2 signature(s), threshold 2 (reached: the charter is valid)"
mycel 0 charter show acme-v1.mcc
expect "threshold  2 of 3 members" "signed by  alice, bob" "policies   0" "status     valid (threshold reached)"

step "3. Sales creates its domain directory under the genesis"
mycel 0 init --dir sales --domain sales --key sales.key --charter acme-v1.mcc
expect "domain   sales" "mesh     acme (charter v1"
mesh_id=$("$MYCEL" charter show --data sales --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["mesh_id"])')
[[ "$mesh_id" =~ ^[0-9a-f]{64}$ ]] || die "charter show --json gave no mesh id"
say "(mesh id ${mesh_id:0:16}…: the hash of the genesis charter; every later version chains to it)"

step "4. Marketing wants to join; the charter does not bind it yet"
mycel 1 init --dir marketing --domain marketing --key marketing.key --charter acme-v1.mcc
expect "does not admit domain \"marketing\"" "the governance group must add --domain marketing=$(pub marketing)"
[ ! -e marketing ] || die "a refused init left a marketing directory behind"

step "5. Charter v2 admits marketing: one draft, each member signs their own copy, copies merge"
mycel 0 charter admit acme-v1.mcc --domain marketing="$(pub marketing)" --out acme-v2-draft.mcc
expect "charter v2 of mesh acme, unsigned, from acme-v1.mcc (v1):" "+ domain marketing"
say '$ cp acme-v2-draft.mcc alice-v2.mcc; cp acme-v2-draft.mcc bob-v2.mcc   # sent to alice and to bob'
cp acme-v2-draft.mcc alice-v2.mcc
cp acme-v2-draft.mcc bob-v2.mcc
mycel 0 charter sign alice-v2.mcc --key alice.key
expect "signed alice-v2.mcc (v2): 1 signature(s), threshold 2"
say "-- before: alice's copy alone"
mycel 0 charter show alice-v2.mcc --prev acme-v1.mcc
expect "signed by  alice" "v1         1 of 2 signatures of its 3 members" \
	"status     needs 1 more signature of version 1's members"
mycel 1 charter apply alice-v2.mcc --data sales
expect "threshold is 2" "(nothing changed)"
mycel 0 charter sign bob-v2.mcc --key bob.key
mycel 0 charter merge alice-v2.mcc bob-v2.mcc --out acme-v2.mcc
expect "wrote acme-v2.mcc: charter v2 with 2 signature(s) merged from 2 file(s)"
say "-- after: the merged copies"
mycel 0 charter show acme-v2.mcc --prev acme-v1.mcc
expect "signed by  alice, bob" "v1         2 of 2 signatures of its 3 members (met)" \
	"v2         2 of 2 signatures of its 3 members (met)" \
	"status     valid (both thresholds reached: a valid step from v1)"
mycel 0 charter apply acme-v2.mcc --data sales
expect "sales/store: charter v2 in force (from acme-v2.mcc)"
mycel 0 init --dir marketing --domain marketing --key marketing.key --charter acme-v1.mcc \
	--charter acme-v2.mcc
expect "domain   marketing" "mesh     acme (charter v2, id ${mesh_id:0:16}"

step "6. Charter v3 adds a policy: columns tagged pii must be classified restricted"
say '$ cat pii-restricted.cel'
cat pii-restricted.cel
SHOW="mycel charter set-policy acme-v2.mcc --id pii-restricted --severity deny --expr \"\$(cat pii-restricted.cel)\" --message 'columns tagged pii must be classified restricted' --out acme-v3.mcc" \
	mycel 0 charter set-policy acme-v2.mcc --id pii-restricted --severity deny \
	--expr "$(cat pii-restricted.cel)" --message "columns tagged pii must be classified restricted" \
	--out acme-v3.mcc
expect "charter v3 of mesh acme, unsigned, from acme-v2.mcc (v2):" "+ policy pii-restricted"
say "-- this time bob and carol sign the same file in turn"
mycel 0 charter sign acme-v3.mcc --key bob.key
mycel 0 charter sign acme-v3.mcc --key carol.key
expect "signed acme-v3.mcc (v3): 2 signature(s), threshold 2"
mycel 0 charter show acme-v3.mcc --prev acme-v2.mcc
expect "policies   1" "  pii-restricted       deny" "signed by  bob, carol" \
	"status     valid (both thresholds reached: a valid step from v2)"
[ "$(grep -A1 '^policies   1$' <<<"$OUT" | tail -1)" = "  pii-restricted       deny" ] ||
	die "charter show does not list the policy right under \"policies\""
for d in sales marketing; do
	mycel 0 charter apply acme-v3.mcc --data $d
	expect "$d/store: charter v3 in force"
done

step "7. Marketing's first contract tags email as pii but classifies it internal: refused"
say "\$ sed -n '/name: email/,/classification/p' subscribers-1.0.0-draft.odcs.yaml"
sed -n '/name: email/,/classification/p' subscribers-1.0.0-draft.odcs.yaml
line=$(sed -n '/name: email/,/classification/{/classification: internal/=}' subscribers-1.0.0-draft.odcs.yaml)
[ -n "$line" ] || die "subscribers-1.0.0-draft.odcs.yaml: email is not classified internal"
where="subscribers-1.0.0-draft.odcs.yaml:$line:25: /schema/0/properties/1/classification"
policy="policy pii-restricted (deny): columns tagged pii must be classified restricted"
say "-- in CI, before any publish: lint with the charter file"
mycel 1 lint subscribers-1.0.0-draft.odcs.yaml --charter acme-v3.mcc
expect "$where: $policy" "subscribers-1.0.0-draft.odcs.yaml: invalid (1 finding)"
mycel 1 publish subscribers-1.0.0-draft.odcs.yaml --data marketing
expect "FAILED_PRECONDITION" "it violates the charter's policies" "$where: $policy" \
	"nothing was published"
mycel 1 log marketing --data marketing
expect 'no feed of domain "marketing"'
say "(nothing was signed: marketing's feed is still empty)"

step "8. The fix: email classified restricted; the contract is published"
mycel 0 lint subscribers-1.0.0.odcs.yaml --charter acme-v3.mcc
expect "subscribers-1.0.0.odcs.yaml: valid DataContract v3.2.0"
mycel 0 publish subscribers-1.0.0.odcs.yaml --data marketing
expect "published  marketing/marketing-subscribers 1.0.0 (contract, seq 1)"

step "9. A breaking change (first_name removed) as a minor version: refused, with the list"
mycel 1 publish subscribers-1.1.0.odcs.yaml --data marketing
expect "FAILED_PRECONDITION" "it makes breaking changes without a new major version" \
	"/schema/0/properties/2: property-removed: property subscribers.first_name (\"string\") was removed (breaking under BACKWARD against version 1.0.0; 1.1.0 needs a new major version)" \
	"nothing was published"
say "-- why: mycel diff shows each change, breaking or not"
mycel 1 diff subscribers-1.0.0.odcs.yaml subscribers-1.1.0.odcs.yaml
expect "BREAKING    /schema/0/properties/2  property-removed" \
	"1 change, 1 breaking under BACKWARD; publishing NEW needs a new major version"
say "-- the same change as a new major version is accepted"
mycel 1 diff subscribers-1.0.0.odcs.yaml subscribers-2.0.0.odcs.yaml
expect "(1.0.0) -> subscribers-2.0.0.odcs.yaml (2.0.0): 1 change, 1 breaking under BACKWARD; the major version goes up, so they may be published"
mycel 0 publish subscribers-2.0.0.odcs.yaml --data marketing
expect "published  marketing/marketing-subscribers 2.0.0 (contract, seq 2)"

step "10. Marketing rotates its key; the next publish is signed by the next key"
mycel 0 key rotate --data marketing
expect "rotated   marketing (feed $(pub marketing | cut -c1-16)…): key entry seq 3" \
	"old key   marketing/key.secret.1.old (kept, mode 0600)"
next_key=$(sed -n 's/^next key  \([0-9a-f]\{64\}\)$/\1/p' <<<"$OUT")
[ -n "$next_key" ] && [ "$next_key" != "$(pub marketing)" ] || die "key rotate named no new key"
mycel 0 publish subscribers-2.1.0.odcs.yaml --data marketing
expect "published  marketing/marketing-subscribers 2.1.0 (contract, seq 4)"
mycel 0 log marketing --data marketing
expect "marketing  feed $(pub marketing)  4 entries"
grep -qE '^ +3 +[0-9TZ:.-]+ +key ' <<<"$OUT" || die "log shows no key entry at seq 3"
mycel 0 verify --data marketing
expect "3 charter version(s), 1 feed(s), 4 entries, 4 bodies, 0 fork proof(s)" "OK: every signature"
say "(the feed keeps its name, marketing's genesis key; seq 1-3 verify under it, seq 4 under the next)"

step "11. Sales pulls marketing's feed: every entry checked against charter v3 and the rotation"
mycel 0 pull --data sales --from marketing
expect "pulled from marketing:" "4 new entries verified and stored"
mycel 0 get --data sales marketing/marketing-subscribers
expect "owner      domain marketing, feed $(pub marketing)" "signature  verified" \
	"shown      version 2.1.0, active, seq 4"
expect_not "NONCOMPLIANT"
for v in 1.0.0 2.0.0 2.1.0; do
	grep -qE "^  $v +active +seq" <<<"$OUT" || die "get lists no active version $v"
done

step "12. An audit bundle, checked offline by an auditor"
mycel 0 audit marketing/marketing-subscribers --data marketing --out subscribers.mcb
expect "subscribers.mcb: audit bundle of marketing/marketing-subscribers (contract): 3 charter version(s), 1 feed(s), 4 entries, 4 bodies, 0 fork proof(s)"
mycel 0 verify subscribers.mcb
expect "subject       marketing/marketing-subscribers (contract)" \
	"owner         marketing, feed $(pub marketing)" \
	"owned since   " "(seq 1: the first version)" "transfers     0" \
	"charter       version 3 of mesh acme (mesh id $mesh_id)" \
	"admitted      since charter version 2" \
	"feed head     seq 4 of the feed of marketing," \
	"key events    1" \
	"OK: every signature, chain link, body hash, timestamp and charter step verifies"
for v in 1.0.0:1 2.0.0:2 2.1.0:4; do
	grep -qE "^ +marketing +${v%:*} +active +${v#*:} " <<<"$OUT" || die "the bundle lists no version ${v%:*} at seq ${v#*:}"
done
say "(the mesh id is the one sales' store holds: compare it with the one your governance group gave you)"

step "13. One bit of the bundle changed (in version 2.1.0's document): verify fails and says where"
python3 - subscribers.mcb subscribers-tampered.mcb preferred_language <<'PY'
import sys
src, dst, needle = sys.argv[1], sys.argv[2], sys.argv[3].encode()
data = bytearray(open(src, 'rb').read())
at = data.find(needle)
assert at >= 0, 'text not found in the bundle'
data[at] ^= 0x01
open(dst, 'wb').write(data)
print(f'(a copy, subscribers-tampered.mcb, with one bit of byte {at} of {len(data)} flipped: '
      f'{needle.decode()!r} became {bytes(data[at:at + len(needle)]).decode()!r})')
PY
mycel 1 verify subscribers-tampered.mcb
expect "FAIL subscribers-tampered.mcb: bundle: feeds[0].bodies[3]: does not match the body hash of its entry" \
	"seq 4)" "[EHASH]"
expect_not "OK:"

step "14. Marketing hands a data product to sales: an offer in its feed, an acceptance in sales'"
mycel 0 publish campaign-reach.odps.yaml --data marketing
expect "published  marketing/campaign-reach 1.0.0 (product"
mycel 0 transfer marketing/campaign-reach --to sales --data marketing
expect "offered   marketing/campaign-reach to sales (transfer, seq 6)"
mycel 0 pull --data sales --from marketing
mycel 0 accept marketing/campaign-reach --data sales
expect "sales owns it now and publishes its next versions as sales/campaign-reach"
mycel 0 pull --data marketing --from sales
mycel 0 get marketing/campaign-reach --data marketing
expect "moved      to domain sales (offer seq 6, accepted at sales seq 1)"
mycel 1 transfer marketing/campaign-reach --to sales --data marketing
expect "PERMISSION_DENIED: marketing/campaign-reach was transferred to sales"
mycel 0 audit marketing/campaign-reach --data marketing --out reach.mcb
mycel 0 verify reach.mcb
expect "owner         sales, feed $(pub sales)" \
	"(seq 1 of the feed of sales: its acceptance of the transfer from marketing)" \
	"marketing -> sales: offered at seq 6" \
	"OK: every signature, chain link, body hash, timestamp and charter step verifies"
say "(marketing's versions stay signed by marketing and verifiable; sales publishes the next ones as sales/campaign-reach)"

step "Done: a charter in three versions, a policy enforced, a contract evolved, a key rotated, an audit, a transfer"
