# cli_lib.sh — what the command-line test scripts share (sourced, not run): TAP-like
# reporting and running the mycel binary named by $MYCEL with its exit code checked.
#   ok TEXT...           reports the next passed check
#   fail TEXT...         reports a failure (with the last command's output) and exits 1
#   run WANT ARGS...     runs "$MYCEL" ARGS: stdout+stderr in $OUT, stdout alone in $STDOUT,
#                        the exit code in $RC, which must be WANT
#   has TEXT...          each TEXT occurs in $OUT
#   hasnt TEXT           TEXT does not occur in $OUT
# The caller sets MYCEL and works in a directory of its own (run keeps two files there).
n=0
ok() {
	n=$((n + 1))
	echo "ok $n - $*"
}
fail() {
	echo "not ok - $*"
	[ -n "${OUT:-}" ] && printf '%s\n' "--- output:" "$OUT"
	exit 1
}
run() {
	local want=$1
	shift
	RC=0
	"$MYCEL" "$@" >.cli-out 2>.cli-err || RC=$?
	STDOUT=$(cat .cli-out)
	OUT=$(cat .cli-out .cli-err)
	[ "$RC" = "$want" ] || fail "mycel $* exited $RC, expected $want"
}
has() {
	local t
	for t in "$@"; do
		grep -qF -- "$t" <<<"$OUT" || fail "output lacks \"$t\""
	done
}
hasnt() {
	if grep -qF -- "$1" <<<"$OUT"; then fail "output has \"$1\""; fi
}
