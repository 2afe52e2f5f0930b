#!/usr/bin/env bash
# cli.sh — end-to-end test of the mycel command, run as a user would.
# Usage: tests/cli.sh PATH/TO/mycel   (meson runs it from the source root)
set -euo pipefail

MYCEL=$(realpath "$1")
SRC=$PWD
T=$(mktemp -d /tmp/mycel-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"
export NO_COLOR=1

n=0
ok() {
	n=$((n + 1))
	echo "ok $n - $*"
}
fail() {
	echo "FAIL - $*" >&2
	[ -n "${OUT:-}" ] && printf '%s\n' "--- output:" "$OUT" >&2
	exit 1
}
# run WANT_RC ARGS...: runs mycel, output (stdout+stderr) in $OUT, checks the exit code.
run() {
	local want=$1
	shift
	RC=0
	OUT=$("$MYCEL" "$@" 2>&1) || RC=$?
	[ "$RC" = "$want" ] || fail "mycel $* exited $RC, expected $want"
}
# has TEXT...: each TEXT occurs in $OUT.
has() {
	local t
	for t in "$@"; do
		grep -qF -- "$t" <<<"$OUT" || fail "output lacks \"$t\""
	done
}

# ---- keygen ---------------------------------------------------------------------------------
run 0 keygen --out k
[[ "$OUT" =~ ^[0-9a-f]{64}$ ]] || fail "keygen prints 64 hex digits"
PK=$OUT
ok "keygen prints the public key as 64 hex digits"
[ "$(stat -c %a k)" = 600 ] || fail "key file mode is $(stat -c %a k)"
ok "the key file has mode 600"
before=$(sha256sum k)
run 1 keygen --out k
has "k"
[ "$(sha256sum k)" = "$before" ] || fail "the key file was changed"
ok "keygen refuses to overwrite an existing key (exit 1), the file is unchanged"
run 2 keygen
ok "keygen without --out is a usage error (exit 2)"

# ---- init, profile, log, verify --------------------------------------------------------------
run 0 init --dir D --domain sales
has "domain" "sales" "feed" "mesh"
ok "init --dir D --domain sales: exit 0, shows domain, feed and mesh"
[ -f D/config.yaml ] && [ -f D/charter.mcc ] && [ -d D/store ] || fail "domain directory layout"
[ "$(stat -c %a D/key.secret)" = 600 ] || fail "D/key.secret mode"
ok "the domain directory holds config.yaml, charter.mcc, store/ and key.secret (600)"

for i in 1 2 3; do
	run 0 profile --data D --title "Sales analytics team rev$i" --contact "sales$i@acme.example"
	has "seq $i"
done
ok "profile --data D published three domain profiles (seq 1, 2, 3)"

run 1 init --dir D --domain sales
has "already"
ok "init on an existing domain directory refuses (exit 1)"

run 0 log --data D
has "sales" "3 entries"
[ "$(grep -cE '^ +[0-9]+ +[0-9T:.-]+Z +domain ' <<<"$OUT")" = 3 ] || fail "log lists 3 domain entries"
ok "log --data D lists 3 entries of kind domain (the refused init kept the store)"

run 0 log --data D --json
[ "$(wc -l <<<"$OUT")" = 3 ] || fail "log --json prints 3 lines"
python3 -c '
import json, sys
lines = sys.stdin.read().splitlines()
docs = [json.loads(l) for l in lines]
assert [d["seq"] for d in docs] == [1, 2, 3], docs
assert all(d["kind"] == "domain" and d["domain"] == "sales" for d in docs), docs
assert all(len(d["id"]) == 64 and len(d["feed"]) == 64 for d in docs), docs
assert docs[0]["ts_ms"] <= docs[1]["ts_ms"] <= docs[2]["ts_ms"], docs
' <<<"$OUT" || fail "log --json lines are JSON objects with seq 1..3, kind domain"
ok "log --data D --json prints 3 JSON lines (seq 1..3, kind domain, ts non-decreasing)"

run 0 verify --data D
has "OK" "3 entries"
ok "verify --data D: exit 0, OK"

# ---- a 2-of-3 charter -------------------------------------------------------------------------
run 0 keygen --out a.key
A=$OUT
run 0 keygen --out b.key
B=$OUT
run 0 keygen --out c.key
C=$OUT
run 0 keygen --out sales.key
S=$OUT
run 0 charter init --mesh acme --member a="$A" --member b="$B" --member c="$C" --threshold 2 \
	--domain sales="$S" --out C.mcc
ok "charter init: mesh acme, members a b c, threshold 2, domain sales"
run 1 charter init --mesh acme --member a="$A" --threshold 1 --out C.mcc
has "exists"
ok "charter init refuses to overwrite its --out file (exit 1)"

run 0 charter show C.mcc
has "threshold  2 of 3" "0 valid member signature(s)"
if grep -q "valid (threshold reached)" <<<"$OUT"; then fail "an unsigned charter shows as valid"; fi
ok "charter show: not valid without signatures"

run 1 init --dir Dx --domain sales --key sales.key --charter C.mcc
[ ! -e Dx ] || fail "a failed init left Dx behind"
ok "init with the not yet valid charter fails (exit 1) and leaves nothing behind"

run 0 charter sign C.mcc --key a.key
has "1 signature(s)"
run 0 charter show C.mcc
has "1 valid member signature(s), threshold is 2"
ok "charter sign --key a: 1 signature, still not valid"
run 1 charter sign C.mcc --key k
has "not a member"
ok "charter sign with a non-member key fails (exit 1)"
run 0 charter sign C.mcc --key b.key
has "2 signature(s)" "reached"
run 0 charter show C.mcc
has "valid (threshold reached)"
run 0 charter show C.mcc --json
python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
assert d["valid"] is True and d["threshold"] == 2 and len(d["signatures"]) == 2, d
assert [x["name"] for x in d["domains"]] == ["sales"], d
' <<<"$OUT" || fail "charter show --json"
ok "charter sign --key b: 2 of 3, the charter is valid"

run 0 init --dir D2 --domain sales --key sales.key --charter C.mcc
has "sales" "$S" "acme"
ok "init --dir D2 --domain sales --key sales.key --charter C.mcc works; the feed is the key"
run 0 profile --data D2 --title "Sales in the acme mesh"
run 0 verify --data D2
has "OK"
run 0 charter show --data D2
has "acme" "valid (threshold reached)"
ok "D2 publishes, verifies, and holds the acme charter"

run 1 init --dir D3 --domain marketing --key sales.key --charter C.mcc
has 'domain "marketing"'
[ ! -e D3 ] || fail "a failed init left D3 behind"
ok "init with a domain the charter does not admit fails (exit 1), naming the domain"
run 1 init --dir D4 --domain sales --key k --charter C.mcc
has 'domain "sales"' "$PK"
ok "init with a key the charter does not bind to the domain fails (exit 1), naming the key"

# ---- usage errors -------------------------------------------------------------------------------
run 2 frobnicate
has "unknown command"
ok "unknown command: exit 2"
run 2 init --dir D5
[ ! -e D5 ] || fail "a usage error created D5"
ok "init without --domain: exit 2"
for bad in x 0 -1 256 2x; do
	run 2 charter init --mesh m --member a="$A" --member b="$B" --threshold "$bad" --out bad.mcc
done
run 2 charter init --mesh m --member a="$A" --member b="$B" --threshold 3 --out bad.mcc
run 2 charter init --mesh m --member a=123 --threshold 1 --out bad.mcc
[ ! -e bad.mcc ] || fail "a usage error wrote bad.mcc"
ok "charter init with a bad --threshold (x 0 -1 256 2x, more than the members) or key: exit 2"
run 2 verify --data D extra
run 2 log --data D --bogus
ok "verify/log with stray arguments: exit 2"
run 1 verify --data nowhere
ok "verify of a directory that is no store: exit 1"

# ---- tampered stores --------------------------------------------------------------------------------
# A compacted copy holds each live value once; flip one byte of a stored value in it.
mkdir T1 T2
mdb_copy -c D/store T1
mdb_copy -c D/store T2
run 0 verify --data T1
ok "a compacted copy of the store verifies"

# T1: one byte of the body of seq 2 (the profile title published above).
python3 - T1/data.mdb <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
needle = b"Sales analytics team rev2"
assert b.count(needle) == 1, b.count(needle)
b[b.find(needle) + 6] ^= 0x01
open(p, "wb").write(b)
EOF
run 1 verify --data T1
has "FAIL" "body" "sales" "seq 2" "hash"
grep -E "FAIL +body +sales .*seq 2: .*hash" <<<"$OUT" >/dev/null || fail "one line names body, sales, seq 2, hash"
run 1 verify --data T1 --json
python3 -c '
import json, sys
docs = [json.loads(l) for l in sys.stdin.read().splitlines()]
hits = [d for d in docs if d.get("problem") == "body" and d.get("domain") == "sales" and d.get("seq") == 2]
assert hits and hits[0]["code"] == "EHASH", docs
assert docs[-1]["ok"] is False and docs[-1]["problems"] >= 1, docs
' <<<"$OUT" || fail "verify --json names the body of sales seq 2"
ok "verify of a store with one body byte flipped: exit 1, names domain sales, seq 2, body hash"

# T2: one byte of the signature inside the stored entry of seq 3. Its header ends with
# bin8(32) body_hash and the signature follows as bin8(64): c4 40.
BH3=$("$MYCEL" log --data D --json | python3 -c 'import json,sys; print([json.loads(l) for l in sys.stdin][2]["body_hash"])')
python3 - T2/data.mdb "$BH3" <<'EOF'
import sys
p, bh = sys.argv[1], bytes.fromhex(sys.argv[2])
b = bytearray(open(p, "rb").read())
needle = b"\xc4\x20" + bh + b"\xc4\x40"
assert b.count(needle) == 1, b.count(needle)
b[b.find(needle) + len(needle) + 10] ^= 0x01
open(p, "wb").write(b)
EOF
run 1 verify --data T2
has "FAIL" "entry" "sales" "seq 3" "signature"
ok "verify of a store with one entry byte (its signature) flipped: exit 1, names sales, seq 3"

run 0 verify --data D
ok "the original store still verifies"

# ---- key rotation (PROTOCOL.md §5.4) ------------------------------------------------------------
run 0 init --dir R --domain sales
run 0 profile --data R --title Sales
before=$(sha256sum <R/key.secret)
run 0 key rotate --data R
has "rotated" "sales" "key entry seq 2" "next key" "R/key.secret.1.old"
ok "key rotate --data R: exit 0, names the key entry's seq, the next key and where the old key is"
[ "$(stat -c %a R/key.secret)" = 600 ] && [ "$(stat -c %a R/key.secret.1.old)" = 600 ] ||
	fail "key file modes after a rotation"
[ "$(sha256sum <R/key.secret.1.old)" = "$before" ] || fail "the old key is not kept as it was"
[ "$(sha256sum <R/key.secret)" != "$before" ] || fail "the key file was not replaced"
[ ! -e R/key.secret.next ] || fail "key.secret.next left behind"
ok "the key file holds the next key (600); the old one is kept unchanged as key.secret.1.old (600)"
run 0 profile --data R --title "Sales 2"
has "seq 3"
run 0 log --data R
has " key " "3 entries"
run 0 verify --data R
has "OK"
ok "after the rotation the next key publishes (seq 3) and the feed verifies"
run 0 key rotate --data R --json
python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["seq"]==4 and d["domain"]=="sales" and len(d["next_key"])==64 and d["old_key_file"].endswith("key.secret.2.old"), d' <<<"$OUT" ||
	fail "key rotate --json"
run 0 profile --data R --title "Sales 3"
run 0 verify --data R
ok "a second rotation (seq 4, --json) and a publish after it verify"

cp -p R/key.secret R/key.keep
cp -p R/key.secret.2.old R/key.secret
seqs=$("$MYCEL" log --data R --json | wc -l)
run 1 profile --data R --title "by the retired key"
has "does not hold the key that signs the feed now"
run 1 key rotate --data R
[ "$("$MYCEL" log --data R --json | wc -l)" = "$seqs" ] || fail "a retired key wrote something"
cp -p R/key.keep R/key.secret
ok "a retired key can neither publish nor rotate (exit 1, says why); nothing is written"

run 2 key
run 2 key turn --data R
ok "key without rotate is a usage error (exit 2)"

# a crash after the key entry committed but before the key file was replaced: the next
# command finishes the rotation (and a key.secret.next that was never committed is removed)
run 0 key rotate --data R
has "key entry seq 6"
mv R/key.secret R/key.secret.next
mv R/key.secret.3.old R/key.secret
run 0 profile --data R --title "after a crash"
[ ! -e R/key.secret.next ] && [ -e R/key.secret.3.old ] || fail "the interrupted rotation was not finished"
run 0 verify --data R
"$MYCEL" keygen --out R/key.secret.next >/dev/null
run 0 profile --data R --title "a stale next key"
[ ! -e R/key.secret.next ] || fail "a key.secret.next never committed was kept"
[ ! -e R/key.secret.4.old ] || fail "a stale key.secret.next was installed"
ok "an interrupted rotation is finished by the next write; an uncommitted key.secret.next removed"

# a key entry altered breaks the chain there: the entries after it, signed by a key no longer
# proven, fail too
cp -r R/store RT
python3 - RT/data.mdb <<'EOF2'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
needle = b"\xa3sig\xc4\x40"
i = b.find(needle)
assert i >= 0
while i >= 0:  # every copy (freed pages too): the live one is among them
    b[i + len(needle) + 5] ^= 0x01
    i = b.find(needle, i + 1)
open(p, "wb").write(b)
EOF2
run 1 verify --data RT
has "FAIL" "sales" "seq 2: body does not match" "seq 3: signature does not verify"
ok "verify of a store whose key entries were altered: exit 1, the key entry's body and every entry after it"

# ---- product transfer (PROTOCOL.md §5.5) ---------------------------------------------------------
EX=$SRC/examples/mesh
args=(--mesh acme --threshold 1 --member gov="$("$MYCEL" keygen --out xgov.key)")
for d in sales customers finance; do args+=(--domain "$d=$("$MYCEL" keygen --out x$d.key)"); done
"$MYCEL" charter init "${args[@]}" --out xacme.mcc >/dev/null
"$MYCEL" charter sign xacme.mcc --key xgov.key >/dev/null
for d in sales customers finance; do
	"$MYCEL" init --dir X$d --domain $d --key x$d.key --charter xacme.mcc >/dev/null
done
run 0 publish --data Xsales "$EX"/sales/contracts/orders.odcs.yaml "$EX"/sales/products/sales-performance.odps.yaml
run 2 transfer sales/sales-performance --data Xsales
ok "transfer without --to, or with a malformed DOMAIN/ID, is a usage error (exit 2)"
run 1 transfer sales/sales-orders --to customers --data Xsales
has "contract: only data products are transferred"
run 1 transfer sales/nope --to customers --data Xsales
has "not a product of sales"
run 1 transfer sales/sales-performance --to nobody --data Xsales
has "admits no domain nobody"
run 1 transfer customers/sales-performance --to finance --data Xsales
has "belongs to domain customers"
ok "offers refused: a contract, an unknown product, an unknown domain, another domain's product"
run 0 transfer sales/sales-performance --to customers --data Xsales
has "offered" "to customers" "seq 3"
run 1 transfer sales/sales-performance --to finance --data Xsales
has "already offered to customers"
ok "transfer --to customers: the offer is appended (seq 3); a second offer while it is pending is refused"

run 1 accept sales/sales-performance --data Xcustomers
has "no offer of sales/sales-performance is held here"
run 0 pull --data Xcustomers --from Xsales
run 0 pull --data Xfinance --from Xsales
run 1 accept sales/sales-performance --data Xfinance
has "offered to customers, not to finance"
run 0 accept sales/sales-performance --data Xcustomers
has "accepted" "customers owns it now"
run 1 accept sales/sales-performance --data Xcustomers
has "already accepted by customers"
ok "accept: refused without the offer held, by a third domain, and twice; accepted by the addressee"

run 0 pull --data Xsales --from Xcustomers
run 0 get sales/sales-performance --data Xsales
has "moved      to domain customers" "customers/sales-performance"
run 0 get sales/sales-performance --data Xsales --json
python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["transferred_to"]=="customers" and d["transfer_offer_seq"]==3 and d["transfer_accept_seq"]==1, d' <<<"$OUT" ||
	fail "get --json: transferred_to"
sed 's/^version: 1.1.0/version: 1.2.0/' "$EX"/sales/products/sales-performance.odps.yaml >sp-sales.yaml
run 1 publish --data Xsales sp-sales.yaml
has "was transferred to customers" "customers publishes its next versions"
run 1 deprecate sales/sales-performance --version 1.1.0 --data Xsales
has "transferred to customers"
run 1 get customers/sales-performance --data Xcustomers
has "transferred to customers from sales" "has not published a version of it yet"
ok "after the transfer: get names the new owner (text, --json); the giver's publish and deprecate are refused"

sed 's/^version: 1.1.0/version: 1.2.0/; s/^domain: sales/domain: customers/' \
	"$EX"/sales/products/sales-performance.odps.yaml >sp.yaml
run 0 publish --data Xcustomers sp.yaml
has "customers/sales-performance 1.2.0"
run 0 get customers/sales-performance --data Xcustomers
has "received   from domain sales" "version 1.2.0"
run 0 pull --data Xfinance --from Xcustomers
run 0 search performance --data Xfinance
has "customers/sales-performance" "[moved to customers]"
before=$("$MYCEL" search performance --data Xfinance --json; "$MYCEL" get sales/sales-performance --data Xfinance --json)
run 0 reindex --data Xfinance
after=$("$MYCEL" search performance --data Xfinance --json; "$MYCEL" get sales/sales-performance --data Xfinance --json)
[ "$before" = "$after" ] || fail "reindex changed the transfer's view"
run 0 verify --data Xfinance
ok "the receiver publishes the next version; search shows it under the new owner; reindex changes nothing; every feed verifies"

echo "cli.sh: all $n checks passed"
