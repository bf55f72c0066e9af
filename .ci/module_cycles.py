#!/usr/bin/env python3
"""Finds import cycles between Castellan's modules.

A node is a layer (`src/<layer>/mod.rs`) or one of its modules
(`src/<layer>/<module>.rs` or `src/<layer>/<module>/`). An edge is a
`crate::…` or `super::…` path in one node's files that names another node;
a name a layer's `mod.rs` re-exports (`pub use module::Name`) counts as the
module that defines it. Exits 1, naming the modules, if any cycle exists.
"""
import os
import re
import sys

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
PATH = re.compile(r"\b(crate|super)((?:::\{[^}]*\}|::[A-Za-z_][A-Za-z0-9_]*)+)")
REEXPORT = re.compile(r"pub use (\w+)::(?:\{([^}]*)\}|(\w+));", re.S)


def rust_files(directory):
    for root, _, files in os.walk(directory):
        for name in files:
            if name.endswith(".rs"):
                yield os.path.join(root, name)


def node_of(path):
    """`protocol/token/mod.rs` -> ("protocol", "token"); `protocol/mod.rs` -> ("protocol",)."""
    parts = os.path.relpath(path, SRC)[:-3].split(os.sep)
    if len(parts) == 1:
        return None if parts[0] in ("lib", "main") else (parts[0],)
    if len(parts) == 2 and parts[1] == "mod":
        return (parts[0],)
    return (parts[0], parts[1])


def module_path(path):
    """The module path of a file, as a list: `protocol/token/mod.rs` -> [protocol, token]."""
    parts = os.path.relpath(path, SRC)[:-3].split(os.sep)
    return parts[:-1] if parts[-1] == "mod" else parts


def expand(tail):
    """`::a::{b, c::d}` -> [[a, b], [a, c, d]] (first level of braces is enough here)."""
    tail = tail.lstrip(":")
    if "{" not in tail:
        return [tail.split("::")]
    head, items = tail.split("{", 1)
    head = [p for p in head.split("::") if p]
    return [head + item.strip().split("::") for item in items.rstrip("}").split(",") if item.strip()]


def main():
    layers = sorted({d[:-3] if d.endswith(".rs") else d for d in os.listdir(SRC)} - {"lib", "main"})
    children = {layer: set() for layer in layers}
    reexports = {layer: {} for layer in layers}
    for layer in layers:
        if not os.path.isdir(os.path.join(SRC, layer)):
            continue
        for entry in os.listdir(os.path.join(SRC, layer)):
            name = entry[:-3] if entry.endswith(".rs") else entry
            if name != "mod":
                children[layer].add(name)
        root = os.path.join(SRC, layer, "mod.rs")
        if os.path.exists(root):
            for module, group, single in REEXPORT.findall(open(root).read()):
                for name in (group.split(",") if group else [single]):
                    name = name.strip().split(" as ")[-1].strip()
                    if name:
                        reexports[layer][name] = module

    edges = {}
    for path in rust_files(SRC):
        source = node_of(path)
        if source is None:
            continue
        here = module_path(path)
        text = re.sub(r"//[^\n]*", "", open(path).read())
        for anchor, tail in PATH.findall(text):
            for segments in expand(tail):
                if anchor == "super":
                    base = here[:-1]
                    while segments and segments[0] == "super":
                        base, segments = base[:-1], segments[1:]
                    segments = base + segments
                if not segments or segments[0] not in children:
                    continue
                layer = segments[0]
                if len(segments) > 1 and segments[1] in children[layer]:
                    target = (layer, segments[1])
                elif len(segments) > 1 and segments[1] in reexports[layer]:
                    target = (layer, reexports[layer][segments[1]])
                else:
                    target = (layer,)
                # A layer's mod.rs declares and re-exports its modules:
                # that is structure, not a dependency.
                is_own_child = len(source) == 1 and target[0] == source[0]
                if target != source and not is_own_child:
                    edges.setdefault(source, set()).add(target)

    cycles = strongly_connected(edges)
    if cycles:
        for cycle in cycles:
            print("import cycle: " + ", ".join("::".join(n) for n in sorted(cycle)))
        return 1
    print(f"no import cycles between {len({n for e in edges.values() for n in e} | set(edges))} modules")
    return 0


def strongly_connected(edges):
    """Tarjan's algorithm; returns the components with more than one node."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for successor in edges.get(node, ()):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    sys.setrecursionlimit(10_000)
    for node in list(edges):
        if node not in index:
            visit(node)
    return found


if __name__ == "__main__":
    sys.exit(main())
