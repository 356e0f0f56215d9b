#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Count KTAP results of the knvram test bench.

Results of every source are tallied in one file (one line per source:
name, passed, failed, skipped) and summed up at the end:

  ktap.py guest LOG --tally T          a guest console log (markers, KTAP
                                       documents, kernel log interleaved);
                                       one of our kselftests that skips
                                       as a whole fails (the board has
                                       all they need)
  ktap.py doc NAME OUT --exit RC --tally T [--scan LOG...]
                                       the KTAP output of a host-side test,
                                       plus the splats of its guests' logs
  ktap.py result NAME ok|fail|skip --tally T [REASON]
                                       one result (a static check)
  ktap.py total --tally T              print "N passed, N failed, N skipped";
                                       exit 1 on any failure or no result

Only leaf results count: a KUnit suite counts its test cases (and
parameters), a kselftest_harness program its TEST()s. A result that has
subtests counts only through them, except a parent "not ok" whose
subtests all passed, which counts once as failed. Results missing from a
"1..N" plan count as failed, whether the plan comes before the results or
after them (TAP allows a trailing plan).

Kernel log lines carry a "[    1.234567]" timestamp (PRINTK_TIME) and may
cut into a line of the tests' output: they are taken out before KTAP
parsing and scanned for splats (WARNING, BUG, Oops, lockdep, KASAN, ...);
each splat counts as one failed result.
"""

import argparse
import re
import sys

RESULTS_BEGIN = "==== knvram: results begin ===="
RESULTS_END = "==== knvram: results end ===="
RUN_BEGIN = re.compile(r"^# knvram-run: begin (\S+)\s*$")
RUN_END = re.compile(r"^# knvram-run: end (\S+) exit=(\d+)\s*$")

TIMESTAMP = re.compile(r"\[\s*\d+\.\d{6}\]")
RESULT = re.compile(r"^(\s*)(ok|not ok)\s+(\d+)\b\s*(?:-\s*)?([^#]*?)\s*(?:#\s*(.*?))?\s*$")
PLAN = re.compile(r"^(\s*)1\.\.(\d+)\s*$")
SPLAT = re.compile(
    r"WARNING:|BUG:|\bOops\b|Internal error:|Unable to handle kernel|"
    r"kernel BUG at|possible circular locking|inconsistent lock state|"
    r"possible recursive locking|KASAN:|UBSAN:|unreferenced object|"
    r"scheduling while atomic|blocked for more than|hung_task|"
    r"Kernel panic|soft lockup|hard LOCKUP|detected stalls|"
    r"general protection fault")
SPLAT_LINES = 40    # kernel lines that belong to the splat that opened them
SHOW_LINES = 12     # lines of a splat or failure printed


def split_lines(raw):
    """Yield ('k', line) for kernel log lines and ('u', line) for the rest.

    A kernel line that cut into a user line leaves the head of that line
    waiting; the head is joined to the next user line.
    """
    pending = ""
    for line in raw:
        line = line.rstrip("\r\n").replace("\r", "")
        line = "".join(c for c in line if c == "\t" or c >= " ")
        m = TIMESTAMP.search(line)
        if m:
            pending += line[:m.start()]
            yield "k", line[m.start():]
            continue
        yield "u", pending + line
        pending = ""
    if pending:
        yield "u", pending


class Splats:
    """Kernel splats, each reported once even if the log shows it twice
    (live on the console and again in a dmesg dump)."""

    def __init__(self):
        self.seen = set()
        self.found = []   # list of lists of lines

    def scan(self, kernel_lines, where):
        current = None
        left = 0
        for line in kernel_lines:
            if left > 0:
                left -= 1
                if current is not None and len(current) < SHOW_LINES:
                    current.append(line)
                continue
            current = None
            if SPLAT.search(line):
                left = SPLAT_LINES
                if line in self.seen:
                    continue
                self.seen.add(line)
                current = [f"({where})", line]
                self.found.append(current)


class Count:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.details = []   # (name, diagnostic lines) of each failure

    def add(self, other):
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped
        self.details += other.details

    def fail(self, name, lines=(), n=1):
        self.failed += n
        self.details.append((name, list(lines)))

    def total(self):
        return self.passed + self.failed + self.skipped


class Result:
    def __init__(self, indent, ok, name, directive, diag):
        self.indent = indent
        self.ok = ok
        self.name = name
        self.directive = directive or ""
        self.diag = diag
        self.children = []

    def skipped(self):
        return self.directive.upper().startswith("SKIP")

    def failed(self):
        return not self.ok and not self.skipped() and \
            not self.directive.upper().startswith("TODO")


def count_ktap(lines):
    """Count the leaf results of the KTAP/TAP lines of one document."""
    count = Count()
    stack = []      # results whose parent has not been seen yet
    plans = {}      # indent -> [expected, seen]
    unplanned = {}  # indent -> results seen there with no plan open
    diag = []

    def close_plans(indent):
        for ind in sorted(plans):
            if ind > indent:
                want, got = plans.pop(ind)
                if got < want:
                    count.fail(f"{want - got} results missing ({got} of "
                               f"{want} reported)", n=want - got)

    for line in lines:
        expanded = line.expandtabs(8)
        m = PLAN.match(expanded)
        if m:
            indent, want = len(m.group(1)), int(m.group(2))
            got = unplanned.pop(indent, 0)
            if got:     # a trailing plan: it counts what came before
                if got < want:
                    count.fail(f"{want - got} results missing ({got} of "
                               f"{want} reported)", n=want - got)
            else:
                plans[indent] = [want, 0]
            continue
        m = RESULT.match(expanded)
        if not m:
            text = expanded.strip()
            if text and not text.startswith(("KTAP version", "TAP version")):
                diag.append(text)
                del diag[:-SHOW_LINES]
            continue
        indent = len(m.group(1))
        close_plans(indent)
        if indent in plans:
            plans[indent][1] += 1
        else:
            unplanned[indent] = unplanned.get(indent, 0) + 1
        r = Result(indent, m.group(2) == "ok", m.group(4), m.group(5), diag)
        diag = []
        while stack and stack[-1].indent > indent:
            r.children.append(stack.pop())
        stack.append(r)
        if r.children:
            if r.failed() and not any(_has_failure(c) for c in r.children):
                count.fail(r.name, r.diag)
            continue
        if r.skipped():
            count.skipped += 1
        elif r.failed():
            count.fail(r.name, r.diag)
        else:
            count.passed += 1
    close_plans(-1)
    return count


def _has_failure(r):
    return r.failed() or any(_has_failure(c) for c in r.children)


def count_program(name, lines, exit_code):
    """A test program's output and exit status (kselftest conventions:
    0 pass, 4 skip, anything else fail)."""
    count = count_ktap(lines)
    if exit_code is None:
        count.fail(f"{name} did not finish", lines[-SHOW_LINES:])
    elif count.total() == 0:
        if exit_code == 0:
            count.passed += 1
        elif exit_code == 4:
            count.skipped += 1
        else:
            count.fail(f"{name} exited with {exit_code}", lines[-SHOW_LINES:])
    elif exit_code not in (0, 4) and count.failed == 0:
        count.fail(f"{name} exited with {exit_code}", lines[-SHOW_LINES:])
    return count


class Tally:
    def __init__(self, path):
        self.path = path

    def rows(self):
        try:
            with open(self.path) as f:
                return [line.split("\t") for line in f.read().splitlines()]
        except FileNotFoundError:
            return []

    def record(self, name, count, note=None):
        n = len(self.rows()) + 1
        status = "not ok" if count.failed else "ok"
        if count.failed == 0 and count.passed == 0 and count.skipped:
            note = " # SKIP"
        elif note:
            note = f" # {note}"
        elif count.total() != 1:
            note = (f" # {count.passed} passed, {count.failed} failed, "
                    f"{count.skipped} skipped")
        print(f"{status} {n} {name}{note or ''}")
        for what, lines in count.details:
            print(f"#   FAILED: {what}")
            for line in lines[:SHOW_LINES]:
                print(f"#     {line}")
        with open(self.path, "a") as f:
            f.write(f"{name}\t{count.passed}\t{count.failed}\t{count.skipped}\n")
        sys.stdout.flush()


def read_log(path):
    try:
        with open(path, errors="replace") as f:
            return f.readlines()
    except FileNotFoundError:
        return []


def record_splats(tally, name, splats):
    count = Count()
    for lines in splats.found:
        count.fail("kernel splat", lines)
    tally.record(name, count, None if count.failed else "no splat")


def cmd_guest(args):
    tally = Tally(args.tally)
    splats = Splats()
    lines = list(split_lines(read_log(args.log)))
    splats.scan([t for k, t in lines if k == "k"], args.log)

    docs = []           # (name, lines, exit code)
    begun = ended = False
    current = None
    for kind, text in lines:
        if kind == "k":
            continue
        if text.strip() == RESULTS_BEGIN:
            begun = True
            continue
        if text.strip() == RESULTS_END:
            ended = True
            break
        if not begun:
            continue
        m = RUN_BEGIN.match(text)
        if m:
            if current:
                docs.append((current[0], current[1], None))
            current = (m.group(1), [])
            continue
        m = RUN_END.match(text)
        if m and current and m.group(1) == current[0]:
            docs.append((current[0], current[1], int(m.group(2))))
            current = None
            continue
        if current:
            current[1].append(text)
    if current:
        docs.append((current[0], current[1], None))

    for name, doc, rc in docs:
        count = count_program(name, doc, rc)
        if (name.startswith("kselftest/") and count.skipped and
                not count.passed and not count.failed):
            # The test board has every backend, tool and module our
            # tests need: one that skips as a whole hides a breakage.
            # (Extra tests, extra/NAME, may skip.)
            count.skipped = 0
            count.fail(f"{name} skipped as a whole on the test board",
                       doc[-SHOW_LINES:])
        tally.record(f"{args.name}/{name}", count)
    if not ended:
        tail = [t for _, t in lines[-SHOW_LINES:]]
        count = Count()
        if not begun:
            count.fail("the guest did not start its tests", tail)
        else:
            count.fail("no end marker: the guest hung, crashed or was killed",
                       tail)
        tally.record(f"{args.name}/complete", count)
    record_splats(tally, f"{args.name}/kernel-log", splats)


def cmd_doc(args):
    tally = Tally(args.tally)
    out = [t for k, t in split_lines(read_log(args.out)) if k == "u"]
    tally.record(args.name, count_program(args.name, out, args.exit))
    splats = Splats()
    for log in args.scan:
        splats.scan([t for k, t in split_lines(read_log(log)) if k == "k"],
                    log)
    if args.scan:
        record_splats(tally, f"{args.name}/kernel-log", splats)


def cmd_result(args):
    count = Count()
    if args.status == "ok":
        count.passed = 1
    elif args.status == "skip":
        count.skipped = 1
    else:
        count.fail(args.name, [args.reason] if args.reason else [])
    tally = Tally(args.tally)
    n = len(tally.rows()) + 1
    if args.status == "skip":
        # Say why, on the result line itself.
        print(f"ok {n} {args.name} # SKIP {args.reason}")
        with open(args.tally, "a") as f:
            f.write(f"{args.name}\t0\t0\t1\n")
        return
    tally.record(args.name, count)


def cmd_total(args):
    p = f = s = 0
    for row in Tally(args.tally).rows():
        p += int(row[1])
        f += int(row[2])
        s += int(row[3])
    print(f"{p} passed, {f} failed, {s} skipped")
    return 1 if f or not p else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("guest")
    g.add_argument("log")
    g.add_argument("--name", default="guest")
    g.add_argument("--tally", required=True)
    d = sub.add_parser("doc")
    d.add_argument("name")
    d.add_argument("out")
    d.add_argument("--exit", type=int, required=True)
    d.add_argument("--scan", nargs="*", default=[])
    d.add_argument("--tally", required=True)
    r = sub.add_parser("result")
    r.add_argument("name")
    r.add_argument("status", choices=("ok", "fail", "skip"))
    r.add_argument("reason", nargs="?", default="")
    r.add_argument("--tally", required=True)
    t = sub.add_parser("total")
    t.add_argument("--tally", required=True)
    args = ap.parse_args()
    return {"guest": cmd_guest, "doc": cmd_doc, "result": cmd_result,
            "total": cmd_total}[args.cmd](args) or 0


if __name__ == "__main__":
    sys.exit(main())
