#!/usr/bin/env python3
"""Check the example data mesh in examples/mesh/ (Acme Outfitters).

Every `*.odcs.yaml` and `*.odps.yaml` file under examples/mesh/ is
  1. read with YAML 1.2 core-schema typing (duplicate keys refused) and also
     with PyYAML's YAML 1.1 typing; both readings must give the same value, so
     that no reader can see a date, a sexagesimal number or a `yes` where the
     author wrote a string;
  2. validated with a draft 2019-09 validator (python3-jsonschema >= 4) against
     the official JSON Schema that its `kind` and `apiVersion` select in the
     reference corpus; `date`, `date-time` and `uri` formats are checked too;
  3. checked for the mesh's own rules (DESIGN.md §2): the file lives in
     <domain>/contracts/ (kind DataContract) or <domain>/products/ (kind
     DataProduct), its `domain` field names that directory, its `id` is unique
     in the whole mesh, its `version` is semver.
Then the lineage: every inputPorts/outputPorts contractId (and every
outputPorts[].inputContracts id) resolves to exactly one contract, with the
same version, except the one deliberately dangling reference that the README
documents (DANGLING below). Input ports name contracts of other domains, output
ports contracts of the product's own domain, and every contract is the output
of exactly one product, whose id its `dataProduct` field names.

Usage: tests/check_examples.py [-v] [--expected]
  --expected  also run the loader and validator over the corpus documents and
              compare their verdicts with corpus/EXPECTED.txt (a self-test).
The corpus is $MYCEL_CORPUS, else ../shared/corpus relative to the repo root.
Exit status: 0 all good, 1 problems found, 77 skipped (no jsonschema/yaml, or
no corpus).
"""
import datetime
import os
import re
import sys

SKIP = 77
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
MESH = os.path.join(ROOT, "examples", "mesh")
CORPUS = os.environ.get("MYCEL_CORPUS") or os.path.normpath(os.path.join(ROOT, "..", "shared", "corpus"))
VERBOSE = "-v" in sys.argv[1:]
SELFTEST = "--expected" in sys.argv[1:]

# The one reference that no example publishes, on purpose (see examples/mesh/README.md):
# finance's cost-to-serve product already declares the carrier-invoice contract that
# logistics has announced but not yet published.
DANGLING = {"logistics-carrier-invoices"}

MIN_DOMAINS, MIN_CONTRACTS, MIN_PRODUCTS = 4, 15, 10

try:
    import yaml
except ImportError:
    print("skipped: python3-yaml not available")
    sys.exit(SKIP)
try:
    import jsonschema
    from jsonschema import Draft201909Validator  # jsonschema >= 4.0
except ImportError:
    print("skipped: python3-jsonschema not available")
    sys.exit(SKIP)


# --------------------------------------------------------------------------
# YAML 1.2 core schema on top of PyYAML (which implements YAML 1.1)
# --------------------------------------------------------------------------

class DuplicateKey(yaml.MarkedYAMLError):
    pass


class Core12Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema tag resolution and no duplicate keys."""


Core12Loader.yaml_implicit_resolvers = {}
for _tag, _regex, _first in [
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    ("tag:yaml.org,2002:float",
     r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
     r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", list("-+0123456789.")),
]:
    Core12Loader.add_implicit_resolver(_tag, re.compile(_regex), _first)


def _c_null(loader, node):
    return None


def _c_bool(loader, node):
    return loader.construct_scalar(node).lower() == "true"


def _c_int(loader, node):
    v = loader.construct_scalar(node)
    if v.startswith("0o"):
        return int(v[2:], 8)
    if v.startswith("0x"):
        return int(v[2:], 16)
    return int(v, 10)


def _c_float(loader, node):
    v = loader.construct_scalar(node)
    low = v.lower()
    if low.endswith(".inf"):
        return float("-inf") if v.startswith("-") else float("inf")
    if low == ".nan":
        return float("nan")
    return float(v)


def _c_mapping(loader, node, deep=False):
    if not isinstance(node, yaml.MappingNode):
        raise yaml.constructor.ConstructorError(None, None, "expected a mapping", node.start_mark)
    out = {}
    for knode, vnode in node.value:
        key = loader.construct_object(knode, deep=deep)
        if key in out:
            raise DuplicateKey("while constructing a mapping", node.start_mark,
                               "duplicate key %r" % (key,), knode.start_mark)
        out[key] = loader.construct_object(vnode, deep=deep)
    return out


def _c_map_tag(loader, node):
    data = {}
    yield data
    data.update(_c_mapping(loader, node, deep=True))


Core12Loader.add_constructor("tag:yaml.org,2002:null", _c_null)
Core12Loader.add_constructor("tag:yaml.org,2002:bool", _c_bool)
Core12Loader.add_constructor("tag:yaml.org,2002:int", _c_int)
Core12Loader.add_constructor("tag:yaml.org,2002:float", _c_float)
Core12Loader.add_constructor("tag:yaml.org,2002:map", _c_map_tag)
for _t in ("timestamp", "binary", "omap", "pairs", "set", "merge", "value"):
    Core12Loader.yaml_constructors.pop("tag:yaml.org,2002:" + _t, None)


def _marks(node, ptr, out):
    """JSON pointer -> (line, column), both 1-based, for every node of a document."""
    out[ptr] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = k.value.replace("~", "~0").replace("/", "~1")
            out[ptr + "/" + key] = (k.start_mark.line + 1, k.start_mark.column + 1)
            _marks(v, ptr + "/" + key, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _marks(v, "%s/%d" % (ptr, i), out)


def load_yaml12(path):
    """(value, marks) of the single document in path, read as YAML 1.2 core."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    loader = Core12Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        value = loader.construct_document(node)
    finally:
        loader.dispose()
    marks = {}
    _marks(node, "", marks)
    return value, marks


def load_yaml11(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def first_difference(a, b, ptr=""):
    """JSON pointer of the first place where a and b differ in value or type, else None."""
    if type(a) is not type(b):
        return ptr or "/"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                return ptr + "/" + str(k)
            d = first_difference(a[k], b[k], ptr + "/" + str(k))
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return ptr or "/"
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, "%s/%d" % (ptr, i))
            if d:
                return d
        return None
    return None if a == b else (ptr or "/")


# --------------------------------------------------------------------------
# Schemas and formats
# --------------------------------------------------------------------------

SCHEMA_FILES = {
    "DataContract": ("odcs", "odcs-json-schema-%s.json"),
    "DataProduct": ("odps", "odps-json-schema-%s.json"),
}
_validators = {}


def validator_for(doc):
    """(validator, validator with format checks) for doc's kind and apiVersion, or None."""
    if not isinstance(doc, dict):
        return None
    kind, api = doc.get("kind"), doc.get("apiVersion")
    if kind not in SCHEMA_FILES or not isinstance(api, str) or not re.fullmatch(r"v[0-9.]+", api):
        return None
    sub, pattern = SCHEMA_FILES[kind]
    path = os.path.join(CORPUS, sub, "schema", pattern % api)
    if path not in _validators:
        if not os.path.isfile(path):
            _validators[path] = None
        else:
            import json
            with open(path, encoding="utf-8") as f:
                schema = json.load(f)
            Draft201909Validator.check_schema(schema)
            _validators[path] = (Draft201909Validator(schema),
                                 Draft201909Validator(schema, format_checker=_FORMATS))
    return _validators[path]


DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")


def format_problem(fmt, value):
    """A message if value breaks the format (RFC 3339 date/date-time, RFC 3986 URI), else None."""
    if not isinstance(value, str):
        return None
    try:
        if fmt == "date":
            if not DATE_RE.match(value):
                raise ValueError
            datetime.date.fromisoformat(value)
        elif fmt == "date-time":
            m = DATETIME_RE.match(value)
            if not m:
                raise ValueError
            datetime.date.fromisoformat(m.group(1))
            if int(m.group(2)) > 23 or int(m.group(3)) > 59 or int(m.group(4)) > 60:
                raise ValueError
        elif fmt == "uri":
            if not URI_RE.match(value):
                raise ValueError
    except ValueError:
        return "%r is not a valid %s" % (value, fmt)
    return None


def schema_errors(validators, doc):
    """(pointer, message) for every schema error and every format error of doc."""
    validator, fmt_validator = validators
    out = []
    for e in validator.iter_errors(doc):
        leaf = e
        # report the deepest, most specific error of a oneOf/anyOf failure
        while leaf.context:
            leaf = min(leaf.context, key=lambda c: (-len(c.absolute_path), str(c.message)))
        ptr = "".join("/" + str(p) for p in leaf.absolute_path)
        out.append((ptr, leaf.message))
    # formats are annotations in 2019-09; check the three that the schemas use by hand
    # (a format error inside oneOf/anyOf shows only as the context of that keyword's error)
    stack = list(fmt_validator.iter_errors(doc))
    while stack:
        e = stack.pop(0)
        if e.validator == "format":
            ptr = "".join("/" + str(p) for p in e.absolute_path)
            if (ptr, e.message) not in out:
                out.append((ptr, e.message))
        stack.extend(e.context or ())
    return out


_FORMATS = jsonschema.FormatChecker(formats=())
for _fmt in ("date", "date-time", "uri"):
    def _check(value, _fmt=_fmt):
        problem = format_problem(_fmt, value)
        if problem:
            raise ValueError(problem)
        return True
    _FORMATS.checks(_fmt, raises=ValueError)(_check)


# --------------------------------------------------------------------------
# The mesh
# --------------------------------------------------------------------------

SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$")
ID_RE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


class Report:
    def __init__(self):
        self.problems = 0

    def bad(self, where, msg):
        self.problems += 1
        print("%s: %s" % (where, msg))


def where(rel, marks, ptr):
    line, col = marks.get(ptr, marks.get("", (1, 1)))
    return "%s:%d:%d: %s" % (rel, line, col, ptr or "/")


def check_mesh(rep):
    files = []
    for dirpath, dirnames, filenames in os.walk(MESH):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith((".yaml", ".yml")):
                files.append(os.path.join(dirpath, name))
    if not files:
        rep.bad(os.path.relpath(MESH, ROOT), "no YAML files")
        return

    docs = []  # (rel, domain, doc, marks)
    for path in files:
        rel = os.path.relpath(path, ROOT)
        parts = os.path.relpath(path, MESH).split(os.sep)
        if len(parts) != 3 or parts[1] not in ("contracts", "products"):
            rep.bad(rel, "expected examples/mesh/<domain>/contracts/*.odcs.yaml or <domain>/products/*.odps.yaml")
            continue
        domain, folder, name = parts
        want_kind, suffix = ("DataContract", ".odcs.yaml") if folder == "contracts" else ("DataProduct", ".odps.yaml")
        if not name.endswith(suffix):
            rep.bad(rel, "a file in %s/ must be named *%s" % (folder, suffix))
        try:
            doc, marks = load_yaml12(path)
            doc11 = load_yaml11(path)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            if mark is not None:
                rep.bad("%s:%d:%d" % (rel, mark.line + 1, mark.column + 1),
                        "YAML: %s" % (getattr(e, "problem", None) or e))
            else:
                rep.bad(rel, "YAML: %s" % str(e).replace("\n", " "))
            continue
        diff = first_difference(doc, doc11)
        if diff is not None:
            rep.bad(where(rel, marks, diff if diff != "/" else ""),
                    "reads differently under YAML 1.1 and YAML 1.2 (quote it)")
        if not isinstance(doc, dict):
            rep.bad(rel, "the document is not a mapping")
            continue
        if doc.get("kind") != want_kind:
            rep.bad(where(rel, marks, "/kind"), "kind must be %s in %s/" % (want_kind, folder))
        v = validator_for(doc)
        if v is None:
            rep.bad(where(rel, marks, "/apiVersion"),
                    "no schema for kind %r apiVersion %r" % (doc.get("kind"), doc.get("apiVersion")))
        else:
            for ptr, msg in schema_errors(v, doc):
                rep.bad(where(rel, marks, ptr), msg)
        if doc.get("domain") != domain:
            rep.bad(where(rel, marks, "/domain"), "domain must be %r (its directory)" % domain)
        if not isinstance(doc.get("version"), str) or not SEMVER.match(doc["version"]):
            rep.bad(where(rel, marks, "/version"), "version %r is not semver" % (doc.get("version"),))
        if not isinstance(doc.get("id"), str) or not ID_RE.match(doc["id"]):
            rep.bad(where(rel, marks, "/id"), "id %r is not a lower-case kebab-case id" % (doc.get("id"),))
        elif not doc["id"].startswith(domain + "-"):
            rep.bad(where(rel, marks, "/id"), "id %r does not start with its domain %r" % (doc["id"], domain))
        docs.append((rel, domain, doc, marks))
        if VERBOSE:
            print("ok   %s  (%s %s %s)" % (rel, doc.get("kind"), doc.get("apiVersion"), doc.get("id")))

    # identity: ids are unique across the whole mesh
    seen = {}
    for rel, domain, doc, marks in docs:
        i = doc.get("id")
        if i in seen:
            rep.bad(where(rel, marks, "/id"), "id %r is also used by %s" % (i, seen[i]))
        else:
            seen[i] = rel

    contracts = {}
    for rel, domain, doc, marks in docs:
        if doc.get("kind") == "DataContract":
            contracts.setdefault(doc.get("id"), []).append((rel, domain, doc))
    products = [(rel, domain, doc, marks) for rel, domain, doc, marks in docs if doc.get("kind") == "DataProduct"]
    domains = sorted({d for _, d, _, _ in docs})

    # lineage
    used_dangling = set()
    edges = []
    produced_by = {}

    def resolve(rel, marks, ptr, cid, version):
        if cid in DANGLING:
            if cid in contracts:
                rep.bad(where(rel, marks, ptr), "%r is declared dangling but a contract publishes it" % cid)
            used_dangling.add(cid)
            return None
        found = contracts.get(cid, [])
        if len(found) != 1:
            rep.bad(where(rel, marks, ptr), "contractId %r resolves to %d contracts, not exactly one" % (cid, len(found)))
            return None
        crel, cdomain, cdoc = found[0]
        if version is not None and version != cdoc.get("version"):
            vptr = ptr.rsplit("/", 1)[0] + "/version"
            rep.bad(where(rel, marks, vptr), "version %r of %r, but %s publishes version %r"
                    % (version, cid, crel, cdoc.get("version")))
        return cdomain

    for rel, domain, doc, marks in products:
        pid = doc.get("id")
        inputs = set()
        for i, port in enumerate(doc.get("inputPorts") or []):
            ptr = "/inputPorts/%d/contractId" % i
            cid = port.get("contractId")
            inputs.add(cid)
            cdomain = resolve(rel, marks, ptr, cid, port.get("version"))
            if cdomain == domain:
                rep.bad(where(rel, marks, ptr), "input %r is the product's own domain's contract; inputs cross domains here" % cid)
            edges.append((cid, pid, "in"))
        for i, port in enumerate(doc.get("outputPorts") or []):
            ptr = "/outputPorts/%d/contractId" % i
            cid = port.get("contractId")
            if cid is None:
                rep.bad(where(rel, marks, "/outputPorts/%d" % i), "output port without contractId")
                continue
            cdomain = resolve(rel, marks, ptr, cid, port.get("version"))
            if cdomain is not None and cdomain != domain:
                rep.bad(where(rel, marks, ptr), "output %r belongs to domain %r, not %r" % (cid, cdomain, domain))
            if cid in produced_by:
                rep.bad(where(rel, marks, ptr), "%r is also an output of %s" % (cid, produced_by[cid]))
            produced_by[cid] = pid
            edges.append((pid, cid, "out"))
            for j, ic in enumerate(port.get("inputContracts") or []):
                iptr = "/outputPorts/%d/inputContracts/%d/id" % (i, j)
                resolve(rel, marks, iptr, ic.get("id"), ic.get("version"))
                if ic.get("id") not in inputs:
                    rep.bad(where(rel, marks, iptr), "%r is not one of the product's input ports" % ic.get("id"))

    for cid, found in sorted(contracts.items(), key=lambda kv: str(kv[0])):
        for crel, cdomain, cdoc in found:
            if cid not in produced_by:
                rep.bad(crel, "contract %r is the output of no product" % cid)
            elif cdoc.get("dataProduct") != produced_by[cid]:
                rep.bad(crel, "dataProduct %r, but the product that outputs it is %r"
                        % (cdoc.get("dataProduct"), produced_by[cid]))

    for cid in sorted(DANGLING - used_dangling):
        rep.bad("tests/check_examples.py", "DANGLING names %r but no product references it" % cid)
    readme = os.path.join(MESH, "README.md")
    try:
        with open(readme, encoding="utf-8") as f:
            text = f.read()
        for cid in sorted(DANGLING):
            if cid not in text:
                rep.bad(os.path.relpath(readme, ROOT), "does not document the dangling reference %r" % cid)
    except OSError:
        rep.bad(os.path.relpath(readme, ROOT), "missing")

    n_contracts = sum(len(v) for v in contracts.values())
    if len(domains) < MIN_DOMAINS or n_contracts < MIN_CONTRACTS or len(products) < MIN_PRODUCTS:
        rep.bad("examples/mesh", "too small: %d domains, %d contracts, %d products (want >= %d, %d, %d)"
                % (len(domains), n_contracts, len(products), MIN_DOMAINS, MIN_CONTRACTS, MIN_PRODUCTS))
    crossing = sum(1 for a, b, d in edges if d == "in" and a in contracts
                   and contracts[a][0][1] != next(dm for _, dm, p, _ in products if p.get("id") == b))
    print("mesh: %d domains (%s), %d contracts, %d products, %d lineage edges (%d cross-domain inputs, %d dangling)"
          % (len(domains), ", ".join(domains), n_contracts, len(products), len(edges), crossing, len(used_dangling)))
    if VERBOSE:
        for a, b, d in edges:
            print("  %s -> %s%s" % (a, b, "   (dangling)" if a in DANGLING else ""))


def check_expected(rep):
    """Self-test: the verdicts of this loader + validator on the corpus match EXPECTED.txt."""
    path = os.path.join(CORPUS, "EXPECTED.txt")
    n = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            want, rel = line.split(None, 1)
            try:
                doc, _ = load_yaml12(os.path.join(CORPUS, rel))
                v = validator_for(doc)
                got = "valid" if v is not None and v[0].is_valid(doc) else "invalid"
            except yaml.YAMLError:
                got = "invalid"
            n += 1
            if got != want:
                rep.bad(rel, "verdict %s, EXPECTED.txt says %s" % (got, want))
    print("corpus: %d documents compared with EXPECTED.txt" % n)


def main():
    if not os.path.isdir(os.path.join(CORPUS, "odcs", "schema")):
        print("skipped: no reference corpus at %s (set MYCEL_CORPUS)" % CORPUS)
        return SKIP
    rep = Report()
    check_mesh(rep)
    if SELFTEST:
        check_expected(rep)
    if rep.problems:
        print("FAILED: %d problem(s)" % rep.problems)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
