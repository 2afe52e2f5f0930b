#!/usr/bin/env bash
# myceld_config.sh — myceld's configuration file and flags, end to end.
# Usage: tests/myceld_config.sh PATH/TO/myceld PATH/TO/mycel
set -euo pipefail

MYCELD=$(realpath "$1")
MYCEL=$(realpath "$2")
T=$(mktemp -d /tmp/mycel-cfg-XXXXXX)
PID=
cleanup() {
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		kill -KILL "$PID" 2>/dev/null || true
		wait "$PID" 2>/dev/null || true
	fi
	rm -rf "$T"
}
trap cleanup EXIT
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
has() {
	local t
	for t in "$@"; do
		grep -qF -- "$t" <<<"$OUT" || fail "output lacks \"$t\""
	done
}

"$MYCEL" init --dir node/sales --domain sales >/dev/null

# ---- precedence: flag > file > default ---------------------------------------------------------
cat >node/myceld.yaml <<'EOF'
# myceld settings for the sales domain
data: sales
listen: tcp://127.0.0.1:0
admin: ipc://run/admin.sock
workers: 3
admin_workers: 2
log_level: warn
peers:
  - tcp://127.0.0.1:7411
  - tcp://[::1]:7412
gossip:
  interval_ms: 250
  fanout: 2
  push: false
  verify_threads: 3
EOF
mkdir node/run
OUT=$("$MYCELD" --config node/myceld.yaml --print-config 2>&1) || fail "--print-config exited $?"
has "data: $T/node/sales" "listen: tcp://127.0.0.1:0" "admin: ipc://$T/node/run/admin.sock" \
	"workers: 3" "admin_workers: 2" "log_level: warn" "  - tcp://127.0.0.1:7411" \
	"  - tcp://[::1]:7412" "gossip:" "  interval_ms: 250" "  fanout: 2" "  push: false" \
	"  verify_threads: 3" "  max_hops: 16" "  rpc_timeout_ms: 2000"
ok "relative paths in the file resolve against the file's directory; the gossip section read"
OUT=$("$MYCELD" --config node/myceld.yaml --workers 5 --admin-workers 6 --log-level debug \
	--data node/sales --peer tcp://127.0.0.1:7499 --print-config 2>&1) ||
	fail "--print-config with flags exited $?"
has "data: node/sales" "workers: 5" "admin_workers: 6" "log_level: debug" "  - tcp://127.0.0.1:7499"
grep -qF 7411 <<<"$OUT" && fail "--peer should replace the file's peers"
ok "flags override the file"
OUT=$("$MYCELD" --data node/sales --print-config 2>&1) || fail "--print-config without file"
has "listen: tcp://127.0.0.1:7401" "workers: 4" "admin_workers: 4" "log_level: info" "peers: []" \
	"  enabled: true" "  interval_ms: 1000" "  fanout: 3" "  push: true" "  max_hops: 16" \
	"  batch_entries: 1000" "  batch_bytes: 4194304" "  rpc_timeout_ms: 2000" \
	"  backoff_max_ms: 60000" "  reject_limit: 50" "  ignore_ms: 300000"
ok "without a file, the defaults"

# ---- serving with the file ----------------------------------------------------------------------
mkfifo out
"$MYCELD" --config node/myceld.yaml >out 2>err &
PID=$!
exec 3<out
read -r -t 30 -u 3 line || fail "no ready line (stderr: $(cat err))"
[[ "$line" =~ ^ready\ url=tcp://127\.0\.0\.1:([0-9]+)\ admin=ipc://$T/node/run/admin\.sock$ ]] ||
	fail "ready line: $line"
port=${BASH_REMATCH[1]}
[ "$port" != 0 ] || fail "port 0 was not resolved"
[ -S node/run/admin.sock ] || fail "the admin socket is not where the file says"
[ "$(stat -c %a node/run/admin.sock)" = 600 ] || fail "admin socket mode"
ok "myceld --config serves on the file's addresses (port $port, admin socket 0600)"
kill -TERM "$PID"
rc=0
wait "$PID" || rc=$?
PID=
exec 3<&-
[ "$rc" = 0 ] || fail "myceld exited $rc after SIGTERM"
if grep -q "level=info" err; then
	OUT=$(cat err)
	fail "log_level: warn still wrote info lines"
fi
[ ! -e node/run/admin.sock ] && [ ! -e node/sales/myceld.pid ] || fail "socket or pid file left"
ok "SIGTERM: exit 0, log_level warn hides info lines, socket and pid file removed"

# ---- gossip peers over the admin socket: add, list, remove, kept across a restart -----------------
start_node() {
	rm -f out
	mkfifo out
	"$MYCELD" --config node/myceld.yaml >out 2>err &
	PID=$!
	exec 3<out
	read -r -t 30 -u 3 line || fail "no ready line (stderr: $(cat err))"
}
stop_node() {
	kill -TERM "$PID"
	rc=0
	wait "$PID" || rc=$?
	PID=
	exec 3<&-
	[ "$rc" = 0 ] || fail "myceld exited $rc after SIGTERM"
}
ADM=ipc://$T/node/run/admin.sock
start_node
OUT=$("$MYCEL" peers --node "$ADM" add tcp://127.0.0.1:7413 2>&1) || fail "peers add exited $?"
has "added tcp://127.0.0.1:7413"
OUT=$("$MYCEL" peers --node "$ADM" --json 2>&1) || fail "peers --json exited $?"
grep -q '"addr":"tcp://127.0.0.1:7413".*"state":"\(alive\|suspect\|dead\)","source":"admin"' <<<"$OUT" ||
	fail "the added peer is not listed as an admin peer"
grep -q '"addr":"tcp://127.0.0.1:7411".*"source":"seed"' <<<"$OUT" || fail "the seed is not listed"
OUT=$("$MYCEL" peers --node "$ADM" 2>&1) || fail "peers exited $?"
has "address" "state" "source" "last contact (UTC)" "rejects" "lag" "last error" "tcp://127.0.0.1:7413"
OUT=$("$MYCEL" status --node "$ADM" --json 2>&1) || fail "status --json exited $?"
grep -q '"frontier_feeds":[0-9]*' <<<"$OUT" && grep -q '"peer_list":\[{"addr":' <<<"$OUT" ||
	fail "status --json lacks frontier_feeds or peer_list"
fd=$(grep -o '"frontier_digest":"[0-9a-f]\{64\}"' <<<"$OUT") || fail "status --json: no frontier_digest"
OUT=$("$MYCEL" status --data node/sales --json 2>&1) || fail "status --data exited $?"
grep -qF "$fd" <<<"$OUT" || fail "the node and its store read directly differ in frontier_digest"
OUT=$("$MYCEL" status --node "$ADM" 2>&1) || fail "status exited $?"
has "frontier   " "tcp://127.0.0.1:7413"
ok "mycel peers add URL, peers (text and --json), status shows the peers and the frontier"
rc=0
OUT=$("$MYCEL" peers --node "$ADM" add http://127.0.0.1:1 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "peers add of a bad URL exited $rc"
has "INVALID_ARGUMENT" "http://127.0.0.1:1" "not a tcp:// or ipc:// URL"
rc=0
OUT=$("$MYCEL" peers --node "$ADM" remove tcp://127.0.0.1:7499 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "peers remove of an unknown peer exited $rc"
has "NOT_FOUND" "not a peer of this node"
rc=0
OUT=$("$MYCEL" peers --node "$ADM" frob 2>&1) || rc=$?
[ "$rc" = 2 ] || fail "peers frob exited $rc"
ok "peers add/remove refusals: exit 1 with the status and why; a bad action: usage, exit 2"
stop_node
start_node
OUT=$("$MYCEL" peers --node "$ADM" --json 2>&1) || fail "peers after restart exited $?"
grep -q '"addr":"tcp://127.0.0.1:7413".*"source":"admin"' <<<"$OUT" || fail "the admin peer was not kept"
OUT=$("$MYCEL" peers --node "$ADM" remove tcp://127.0.0.1:7413 2>&1) || fail "remove exited $?"
has "removed tcp://127.0.0.1:7413"
stop_node
start_node
OUT=$("$MYCEL" peers --node "$ADM" --json 2>&1) || fail "peers after restart exited $?"
grep -q '7413' <<<"$OUT" && fail "a removed admin peer came back"
stop_node
ok "admin peers are kept in the store across restarts, and so is their removal"

# ---- bad files: every problem named, nothing started --------------------------------------------
cat >bad.yaml <<'EOF'
data: sales
listn: tcp://127.0.0.1:0
workers: 0
admin: tcp://127.0.0.1:9
peers:
  - tcp://h:1
  - tcp://h:1
gossip:
  fanot: 2
  interval_ms: 1
  push: 1
EOF
rc=0
OUT=$("$MYCELD" --config bad.yaml 2>&1) || rc=$?
[ "$rc" = 2 ] || fail "a bad file exits $rc, expected 2"
has 'bad.yaml:2:8: /listn: unknown key "listn" (did you mean "listen"?)' \
	"bad.yaml:3:10: /workers: must be an integer from 1 to 256" \
	'bad.yaml:4:8: /admin: "tcp://127.0.0.1:9" is not an ipc:// URL' \
	'bad.yaml:7:5: /peers/1: peer "tcp://h:1" is listed twice' \
	'bad.yaml:9:10: /gossip/fanot: unknown gossip key "fanot" (did you mean "fanout"?)' \
	'bad.yaml:10:16: /gossip/interval_ms: must be an integer from 10 to 3600000' \
	'bad.yaml:11:9: /gossip/push: must be true or false, not uint'
[ ! -e sales/myceld.pid ] || fail "a pid file was created"
ok "a bad file: exit 2, each problem with file:line:col and pointer, nothing started"

printf 'data: [\n' >syntax.yaml
rc=0
OUT=$("$MYCELD" --config syntax.yaml 2>&1) || rc=$?
[ "$rc" = 2 ] && grep -q "syntax.yaml:[0-9]*:[0-9]*:" <<<"$OUT" || fail "YAML syntax error: rc $rc"
ok "a file that does not parse: exit 2 with the place"

rc=0
OUT=$("$MYCELD" --config missing.yaml 2>&1) || rc=$?
[ "$rc" = 2 ] || fail "a missing file exits $rc"
has "missing.yaml" "no such file"
ok "a missing file: exit 2, named"

rc=0
OUT=$("$MYCELD" --log-level loud --data node/sales 2>&1) || rc=$?
[ "$rc" = 2 ] || fail "--log-level loud exits $rc"
rc=0
OUT=$("$MYCELD" 2>&1) || rc=$?
[ "$rc" = 2 ] || fail "no data exits $rc"
has "no data directory"
ok "usage errors exit 2"

echo "myceld config: $n checks passed"
