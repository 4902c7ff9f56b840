#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
check_prom.py - checks a metrics file esper-xdp wrote (--metrics-file) against the text
exposition format node_exporter's textfile collector reads: every line a comment (# HELP,
# TYPE) or a sample NAME{LABELS} VALUE; each metric with one HELP and one TYPE before its
samples, all its samples together; counters named *_total. Then prints the value of each
sample asked for (NAME{LABELS} exactly as written), one per line, or fails.

Usage: check_prom.py FILE [SAMPLE...]
"""
import re
import sys

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"'
                    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*)?\})? (-?[0-9]+)$')


def main():
    text = open(sys.argv[1]).read()
    assert text.endswith("\n"), "the file does not end with a line feed"
    seen, types, current, values = set(), {}, None, {}
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("# HELP "):
            name = line.split()[2]
            assert name not in seen, "line %d: %s described twice" % (n, name)
            seen.add(name)
            current = name
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            assert name == current and name not in types, "line %d: TYPE out of place" % n
            assert kind in ("counter", "gauge"), "line %d: type %s" % (n, kind)
            assert (kind == "counter") == name.endswith("_total"), "line %d: %s" % (n, name)
            types[name] = kind
            continue
        m = SAMPLE.match(line)
        assert m, "line %d is not a sample: %r" % (n, line)
        assert m.group(1) == current and current in types, \
            "line %d: a sample of %s outside its group" % (n, m.group(1))
        values[m.group(1) + (m.group(2) or "")] = int(m.group(3))
    assert types, "no metric"
    for want in sys.argv[2:]:
        assert want in values, "no sample %s" % want
        print(values[want])
    return 0


sys.exit(main())
