#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
check-layers.py - the include rules of user/ (each folder's README.md states them):

    lib       -> lib                               (nothing of the project above it)
    crypto    -> lib, crypto
    tables    -> lib, crypto, tables
    datapath  -> lib, crypto, tables, datapath
    control   -> lib, crypto, tables, control
    user/*.c  -> anything (main.c, live.c: the glue)

plus include/ (the ABI and wire headers) for everyone, build/bpf/esper.skel.h for
control/bpf_load.c only and build/gen/esper_version.h (the Makefile's) for main.c only. An include across folders names the folder ("tables/sad.h"); one
within a folder does not. Also: no cycle between modules (x.c and x.h are one module; a
module depends on another when either of its files includes the other's header).

Prints every violation and "layers: N passed, N failed" (files checked), exits 1 on any.
Usage: scripts/check-layers.py [ROOT]
"""
import os
import re
import sys

ALLOWED = {
    "lib": {"lib"},
    "crypto": {"lib", "crypto"},
    "tables": {"lib", "crypto", "tables"},
    "datapath": {"lib", "crypto", "tables", "datapath"},
    "control": {"lib", "crypto", "tables", "control"},
    "": {"lib", "crypto", "tables", "datapath", "control", ""},
}
SHARED = {"esper_abi.h", "esper_wire.h"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources(root):
    for dirpath, _, files in os.walk(os.path.join(root, "user")):
        for f in sorted(files):
            if f.endswith((".c", ".h")):
                yield os.path.relpath(os.path.join(dirpath, f), os.path.join(root, "user"))


def folder_of(rel):
    return os.path.dirname(rel)


def resolve(rel, inc, root):
    """The folder and module an include names, or an error string."""
    here = folder_of(rel)
    if inc in SHARED:
        return None, None
    if inc == "esper.skel.h":
        return (None, None) if rel == "control/bpf_load.c" else ("esper.skel.h outside "
                                                                  "control/bpf_load.c", None)
    if inc == "esper_version.h":
        return (None, None) if rel == "main.c" else ("esper_version.h outside main.c", None)
    if "/" in inc:
        folder, name = inc.split("/", 1)
        if folder == here:
            return "within %s/ the include is written without the folder" % here, None
    else:
        folder, name = here, inc
    path = os.path.join(root, "user", folder, name)
    if not os.path.exists(path):
        return "no such header user/%s" % os.path.join(folder, name), None
    return folder, os.path.join(folder, name[:-2])


def find_cycle(graph):
    state, stack = {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                return stack[stack.index(n):] + [n]
            if not state.get(n):
                c = visit(n)
                if c:
                    return c
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if not state.get(m):
            c = visit(m)
            if c:
                return c
    return None


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    bad_files, graph, n = set(), {}, 0
    for rel in sources(root):
        n += 1
        here = folder_of(rel)
        module = rel[:-2]
        with open(os.path.join(root, "user", rel)) as f:
            text = f.read()
        for inc in INCLUDE.findall(text):
            folder, dep = resolve(rel, inc, root)
            if folder is None:
                continue
            if dep is None:
                print("user/%s: #include \"%s\": %s" % (rel, inc, folder))
                bad_files.add(rel)
            elif folder not in ALLOWED.get(here, set()):
                print("user/%s: #include \"%s\": %s/ may not include %s/" % (
                    rel, inc, here or "user", folder or "user"))
                bad_files.add(rel)
            elif dep != module:
                graph.setdefault(module, set()).add(dep)
    cycle = find_cycle(graph)
    if cycle:
        print("include cycle: " + " -> ".join(cycle))
        bad_files.add(cycle[0])
    print("layers: %d passed, %d failed" % (n - len(bad_files), len(bad_files)))
    return 1 if bad_files else 0


if __name__ == "__main__":
    sys.exit(main())
