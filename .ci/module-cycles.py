#!/usr/bin/env python3
"""Fails when the top-level modules of any crate in the workspace use each
other in a cycle. Crates are already kept acyclic by Cargo; this keeps the
modules inside each crate acyclic too, so ARCHITECTURE.md's layering holds
within crates as well as between them.

A module's uses are the paths it names: `crate::m`, `crate::{m, …}`, and in
a top-level module's own file `super::m` / `super::{m, …}`. The crate root
(lib.rs, main.rs) is the glue that declares the modules and is not a node.
"""
import os
import re
import sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def crates():
    yield "quire", os.path.join(root, "src")
    base = os.path.join(root, "crates")
    for name in sorted(os.listdir(base)):
        src = os.path.join(base, name, "src")
        if os.path.isdir(src):
            yield name, src


def names(group):
    out = []
    for part in group.split(","):
        part = part.strip()
        head = re.match(r"(\w+)", part)
        if head:
            out.append(head.group(1))
    return out


def graph(src):
    modules = set()
    for entry in os.listdir(src):
        path = os.path.join(src, entry)
        if entry.endswith(".rs") and entry not in ("lib.rs", "main.rs"):
            modules.add(entry[:-3])
        elif os.path.isdir(path) and entry != "snapshots":
            modules.add(entry)
    edges = {m: {} for m in modules}
    for dirpath, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, src).split(os.sep)
            top = rel[0][:-3] if rel[0].endswith(".rs") else rel[0]
            if top not in modules:
                continue
            top_file = len(rel) == 1 or (len(rel) == 2 and rel[1] == "mod.rs")
            text = open(path, encoding="utf-8").read()
            text = re.sub(r"//[^\n]*", "", text)
            used = []
            prefixes = ["crate"] + (["super"] if top_file else [])
            for prefix in prefixes:
                for m in re.finditer(prefix + r"::(\{[^}]*\}|\w+)", text):
                    g = m.group(1)
                    used += names(g[1:-1]) if g.startswith("{") else [g]
            for u in used:
                if u in modules and u != top:
                    edges[top].setdefault(u, os.path.relpath(path, root))
    return edges


def cycles(edges):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


failed = False
for crate, src in crates():
    edges = graph(src)
    for comp in cycles(edges):
        failed = True
        print(f"{crate}: the modules {', '.join(comp)} use each other in a cycle:")
        for a in comp:
            for b, where in sorted(edges[a].items()):
                if b in comp:
                    print(f"  {a} -> {b} (first in {where})")
        print("  Move what they share into one of them, or into a module both use.")
if failed:
    sys.exit(1)
print("no module cycles in any crate")
