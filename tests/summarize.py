#!/usr/bin/env python3
"""Summarize meson test results over one or more build directories.

Usage: python3 tests/summarize.py BUILD_DIR [BUILD_DIR...]

Reads BUILD_DIR/meson-logs/testlog.json (one JSON object per line, as written by
`meson test`) and prints one line per directory, then a last line with the totals:

    build: 12 passed, 0 failed, 1 skipped
    build-san: 12 passed, 0 failed, 1 skipped
    24 passed, 0 failed, 2 skipped

OK and EXPECTEDFAIL count as passed, SKIP as skipped, anything else (FAIL, TIMEOUT,
ERROR, UNEXPECTEDPASS, INTERRUPT) as failed.  A missing or unreadable log counts as one
failure for its directory.  Exits 1 if anything failed, 0 otherwise.
"""

import json
import os
import sys

PASSED = {"OK", "EXPECTEDFAIL"}
SKIPPED = {"SKIP"}


def summarize_dir(build_dir):
    """Return (passed, failed, skipped) for one build dir, printing failures as it goes."""
    log = os.path.join(build_dir, "meson-logs", "testlog.json")
    passed = failed = skipped = 0
    try:
        with open(log, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
    except OSError as e:
        print(f"{build_dir}: cannot read {log} ({e.strerror}): its tests did not run")
        return 0, 1, 0

    for lineno, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        try:
            entry = json.loads(line)
            result = str(entry["result"])
        except (ValueError, KeyError, TypeError):
            print(f"{build_dir}: {log}:{lineno}: unreadable entry, counted as failed")
            failed += 1
            continue
        if result in PASSED:
            passed += 1
        elif result in SKIPPED:
            skipped += 1
        else:
            failed += 1
            print(f"{build_dir}: {result}: {entry.get('name', '?')}")
    return passed, failed, skipped


def main(argv):
    if len(argv) < 2:
        print(f"usage: {argv[0]} BUILD_DIR [BUILD_DIR...]", file=sys.stderr)
        return 2
    total_passed = total_failed = total_skipped = 0
    for build_dir in argv[1:]:
        passed, failed, skipped = summarize_dir(build_dir)
        print(f"{build_dir}: {passed} passed, {failed} failed, {skipped} skipped")
        total_passed += passed
        total_failed += failed
        total_skipped += skipped

    last = f"{total_passed} passed, {total_failed} failed"
    if total_skipped:
        last += f", {total_skipped} skipped"
    print(last, flush=True)
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
