#!/usr/bin/env python3
"""Checks that the workspace's crate graph is the one ARCHITECTURE.md
draws: the table between <!-- crate-graph --> markers lists, for every
crate, the workspace crates it depends on (normal dependencies), and each
Cargo.toml must say exactly that. Exit 1 with the differences otherwise."""
import pathlib, re, sys, tomllib

root = pathlib.Path(__file__).resolve().parent.parent
doc = (root / "ARCHITECTURE.md").read_text()
block = re.search(r"<!-- crate-graph -->(.*?)<!-- /crate-graph -->", doc, re.S)
if not block:
    sys.exit("ARCHITECTURE.md has no <!-- crate-graph --> table")
drawn = {}
for line in block.group(1).splitlines():
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) == 2 and cells[0].startswith("`"):
        drawn[cells[0].strip("`")] = set(re.findall(r"`([^`]+)`", cells[1]))

manifests = [root / "Cargo.toml"] + sorted((root / "crates").glob("*/Cargo.toml"))
ours = {tomllib.loads(m.read_text())["package"]["name"] for m in manifests}
actual = {}
for m in manifests:
    data = tomllib.loads(m.read_text())
    deps = set(data.get("dependencies", {})) & ours
    actual[data["package"]["name"]] = deps

problems = []
for name in sorted(ours | set(drawn)):
    if name not in drawn:
        problems.append(f"{name}: in the workspace, not in ARCHITECTURE.md's table")
    elif name not in actual:
        problems.append(f"{name}: in ARCHITECTURE.md's table, not in the workspace")
    elif drawn[name] != actual[name]:
        extra = sorted(actual[name] - drawn[name])
        missing = sorted(drawn[name] - actual[name])
        if extra:
            problems.append(f"{name} depends on {', '.join(extra)}, which ARCHITECTURE.md does not draw")
        if missing:
            problems.append(f"{name} does not depend on {', '.join(missing)}, which ARCHITECTURE.md draws")
if problems:
    print("\n".join(problems))
    sys.exit(1)
print("The crate graph is the one ARCHITECTURE.md draws")
