#!/usr/bin/env bash
# End-to-end: the example mesh published, pulled, searched, read and traced with the mycel
# command, as a user runs it. Each check prints what it asserts.
#
#   tests/cli_catalog.sh MYCEL_BINARY      (run from the source root)
set -euo pipefail
mycel=$1
mesh=$PWD/examples/mesh
work=$(mktemp -d /tmp/mycel-cli-catalog.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
export NO_COLOR=1
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
fail() { echo "not ok - $*"; exit 1; }
json() { python3 -c "import json,sys; $1" ; }

domains="sales customers logistics finance marketing"
args=(--mesh acme --threshold 1 --member gov="$("$mycel" keygen --out gov.key)")
for d in $domains; do args+=(--domain "$d=$("$mycel" keygen --out $d.key)"); done
"$mycel" charter init "${args[@]}" --out acme.mcc >/dev/null
"$mycel" charter sign acme.mcc --key gov.key >/dev/null
for d in $domains; do "$mycel" init --dir $d --domain $d --key $d.key --charter acme.mcc >/dev/null; done

# lint
"$mycel" lint --json "$mesh"/sales/contracts/*.yaml >lint.json
json 'd=json.load(open("lint.json")); assert d["invalid"]==0 and d["valid"]==4, d; assert all(f["valid"] and f["kind"]=="DataContract" for f in d["files"])'
ok "lint --json: the four sales contracts are valid, as one JSON document"
sed 's/logicalType: string/logicalType: strng/' "$mesh/sales/contracts/orders.odcs.yaml" >bad.odcs.yaml
if "$mycel" lint bad.odcs.yaml >bad.out; then fail "lint accepted logicalType strng"; fi
grep -qE '^bad.odcs.yaml:[0-9]+:[0-9]+: /schema/0/properties/[0-9]+/logicalType: "strng" is not one of' bad.out ||
	fail "lint finding format: $(head -1 bad.out)"
ok "lint refuses logicalType strng with file:line:col: /pointer: message (exit 1)"

# publish
for d in $domains; do "$mycel" publish --data $d "$mesh/$d"/contracts/*.yaml "$mesh/$d"/products/*.yaml >/dev/null; done
ok "every domain publishes its contracts and products"
out=$("$mycel" publish --data sales "$mesh/sales/contracts/orders.odcs.yaml")
echo "$out" | grep -q "^unchanged  sales/sales-orders" || fail "republishing the same version: $out"
ok "publishing the same version with the same content changes nothing"
sed 's/^name: .*/name: Orders renamed/' "$mesh/sales/contracts/orders.odcs.yaml" >edit.odcs.yaml
if "$mycel" publish --data sales edit.odcs.yaml >edit.out 2>&1; then fail "a changed version was accepted"; fi
grep -q "bump the version" edit.out || fail "immutability message: $(cat edit.out)"
ok "the same version with other content is refused: bump the version"
if "$mycel" publish --data finance "$mesh/sales/contracts/orders.odcs.yaml" >dom.out 2>&1; then
	fail "finance published a document whose domain is sales"
fi
grep -q 'names domain "sales", but it is published by domain "finance"' dom.out || fail "$(cat dom.out)"
ok "a document naming another domain is refused, nothing published"
seq_before=$("$mycel" log --data sales --json | wc -l)
if "$mycel" publish --data sales "$mesh/sales/contracts/returns.odcs.yaml" bad.odcs.yaml >/dev/null 2>&1; then
	fail "a batch with an invalid document was accepted"
fi
[ "$("$mycel" log --data sales --json | wc -l)" -eq "$seq_before" ] || fail "a refused batch wrote entries"
ok "a publish with one invalid file publishes nothing"

# pull everything into finance, then read
for d in sales customers logistics marketing; do "$mycel" pull --data finance --from $d >/dev/null; done
"$mycel" verify --data finance >/dev/null || fail "verify after pull"
ok "finance pulls the other four feeds, and verify passes"
"$mycel" search --data finance orders --json >s.json
json 'import sys
hits=[json.loads(l) for l in open("s.json")]
assert hits[0]["domain"]=="sales" and hits[0]["id"]=="sales-orders" and hits[0]["matched"]=="name", hits[0]
assert len(hits)>3'
ok "search orders: the contract named Orders ranks first, by name"
"$mycel" search --data finance --kind product --domain customers --json >p.json
json 'hits=[json.loads(l) for l in open("p.json")]
assert len(hits)==2 and all(h["kind"]=="product" and h["domain"]=="customers" for h in hits), hits'
ok "search facets: --kind product --domain customers gives its two products"
"$mycel" get --data finance sales/sales-orders --json >g.json
json 'd=json.load(open("g.json")); assert d["signature"]=="verified" and d["owner"]["domain"]=="sales" and d["version"]=="2.1.0" and d["document"]["id"]=="sales-orders", d["signature"]'
ok "get: owner, version, verified signature and the document as written"
"$mycel" lineage --data finance finance/finance-revenue-recognition --up --depth 1 --json >l.json
json 'ns=[json.loads(l) for l in open("l.json")]
ids={n["id"] for n in ns if n["depth"]==1}
assert ids=={"sales-orders","sales-returns","logistics-shipments"}, ids'
ok "lineage --up: revenue recognition reads sales orders, sales returns and logistics shipments"
"$mycel" lineage --data finance finance/finance-cost-to-serve --up --depth 1 --json >d.json
json 'ns=[json.loads(l) for l in open("d.json")]
assert any(n["dangling"] and n["id"]=="logistics-carrier-invoices" for n in ns), ns'
ok "lineage shows the dangling reference to logistics-carrier-invoices"

# lifecycle, then reindex gives the same answers
"$mycel" retire --data sales sales/sales-returns --version 1.0.2 --reason gone >/dev/null
"$mycel" pull --data finance --from sales >/dev/null
"$mycel" search --data finance returns --json >r1.json
json 'hits=[json.loads(l) for l in open("r1.json")]; assert not any(h["id"]=="sales-returns" for h in hits)'
"$mycel" search --data finance returns --all --json >r2.json
json 'hits=[json.loads(l) for l in open("r2.json")]; assert any(h["id"]=="sales-returns" and h["status"]=="retired" for h in hits)'
ok "a retired contract is hidden from search unless --all"
if "$mycel" deprecate --data sales sales/sales-returns --version 1.0.2 >/dev/null 2>&1; then
	fail "a retired version became deprecated"
fi
ok "statuses only move forward: retired cannot become deprecated"
for q in orders customer "revenue daily" shipm; do "$mycel" search --data finance "$q" --all --json; done >before.json
"$mycel" lineage --data finance sales/sales-orders --down --depth 4 --json >>before.json
"$mycel" reindex --data finance >/dev/null
for q in orders customer "revenue daily" shipm; do "$mycel" search --data finance "$q" --all --json; done >after.json
"$mycel" lineage --data finance sales/sales-orders --down --depth 4 --json >>after.json
cmp -s before.json after.json || fail "reindex changed answers: $(diff before.json after.json | head -5)"
ok "reindex rebuilds the catalog: searches and lineage give identical answers"
echo "$n checks passed"
