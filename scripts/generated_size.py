#!/usr/bin/env python3
"""Lines per table and per graph of a generated file.

A table's lines run from the doc comment of its row struct (`A row of table ...`) to the
line before the next table's row struct (its insert struct, columns, patch and every impl
and macro call in between); the last table's run to the first graph. A graph's lines run
from the doc comment of its struct (named in graphs.toml) to the next graph, the last one's
to `pub mod tables`. Enums and the `tables` module count to neither.

Usage: scripts/generated_size.py [generated.rs] [graphs.toml]
"""
import re
import sys

path = sys.argv[1] if len(sys.argv) > 1 else "codegen/tests/fixtures/generate/shop.rs"
config = sys.argv[2] if len(sys.argv) > 2 else "graphs.toml"
lines = open(path).read().split("\n")
graphs = re.findall(r"^\[(?:insert|update)\.(\w+)\]", open(config).read(), re.M)


def item_start(i):
    """The first line of the doc comment and attributes of the item at line `i`."""
    while i > 0:
        prev = lines[i - 1]
        if prev == "}" or (not prev.startswith((" ", "-", "`")) and prev.endswith(";")):
            break
        i -= 1
    return i


tables, graph_starts, end = [], [], len(lines)
for n, line in enumerate(lines):
    m = re.match(r"pub struct (\w+) \{", line)
    if m:
        start = item_start(n)
        block = "\n".join(lines[start:n])
        if "A row of table `" in block:
            tables.append(start)
        elif m.group(1) in graphs:
            graph_starts.append(start)
    if line.startswith("pub mod tables"):
        end = item_start(n)


def spans(starts, stop):
    bounds = starts + [stop]
    return [bounds[k + 1] - bounds[k] for k in range(len(starts))]


table_lines = spans(tables, graph_starts[0] if graph_starts else end)
graph_lines = spans(graph_starts, end)
print(f"file: {len(lines) - 1} lines")
print(f"tables: {len(table_lines)}, {sum(table_lines)} lines, {sum(table_lines) / len(table_lines):.0f} per table (max {max(table_lines)})")
print(f"graphs: {len(graph_lines)}, {sum(graph_lines)} lines, {sum(graph_lines) / len(graph_lines):.0f} per graph (max {max(graph_lines)})")
