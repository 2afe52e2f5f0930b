#!/usr/bin/env bash
# `mycel lint` against the reference corpus: its verdict on every ODCS/ODPS document of
# ../shared/corpus must be the one a conforming draft 2019-09 validator gives (EXPECTED.txt),
# and every finding must read `file:line:col: /json/pointer: message`.
#
#   tests/lint_corpus.sh MYCEL_BINARY        (corpus: $MYCEL_CORPUS, default ../shared/corpus)
set -uo pipefail
mycel=$1
corpus=${MYCEL_CORPUS:-../shared/corpus}
if [ ! -f "$corpus/EXPECTED.txt" ]; then
	echo "no corpus at $corpus (set MYCEL_CORPUS): skipped"
	exit 77
fi
pass=0 fail=0 valid=0 invalid=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
while read -r want file; do
	[ -n "$want" ] || continue
	"$mycel" lint "$corpus/$file" >"$out" 2>&1
	rc=$?
	got=valid
	[ $rc -eq 0 ] || got=invalid
	ok=1
	if [ $rc -gt 1 ]; then
		echo "FAIL $file: mycel lint exited $rc"; ok=0
	elif [ "$got" != "$want" ]; then
		echo "FAIL $file: mycel says $got, a conforming validator says $want"; ok=0
		sed 's/^/    /' "$out"
	fi
	if [ "$got" = invalid ]; then
		# every finding line names file, line, column and pointer
		findings=$(grep -c "^$corpus/$file:[0-9]*:[0-9]*: " "$out")
		malformed=$(grep "^$corpus/$file:" "$out" | grep -v "^$corpus/$file: invalid" |
			grep -cvE "^$corpus/$file:[0-9]+:[0-9]+: /.*: .+" )
		if [ "$findings" -eq 0 ] || [ "$malformed" -ne 0 ]; then
			echo "FAIL $file: findings must read file:line:col: /pointer: message"; ok=0
			sed 's/^/    /' "$out"
		fi
		invalid=$((invalid + 1))
	else
		valid=$((valid + 1))
	fi
	if [ $ok -eq 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done <"$corpus/EXPECTED.txt"
echo "corpus lint: $valid valid and $invalid invalid documents; agreement with a conforming validator: $pass passed, $fail failed"
[ $fail -eq 0 ]
