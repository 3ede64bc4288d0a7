#!/usr/bin/env python3
"""Lists import cycles between the crate's source files (tests excluded).

Each `crate::a::b::..` or `super::..` path in a file's non-test code is
resolved to the deepest module file that exists; an edge file -> module
file is one import. Prints every strongly connected component of more than
one file, and which modules import render/ from below. Exit 1 if any.
"""
import os, re, sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src')
root = os.path.normpath(root)

def module_of(path):
    rel = os.path.relpath(path, root)[:-3].split(os.sep)
    if rel[-1] in ('mod', 'lib'):
        rel = rel[:-1]
    return rel

def file_of(parts):
    """Deepest existing module file for a module path (list of names)."""
    for n in range(len(parts), -1, -1):
        base = os.path.join(root, *parts[:n])
        for cand in (base + '.rs', os.path.join(base, 'mod.rs')):
            if n == 0:
                return os.path.join(root, 'lib.rs')
            if os.path.isfile(cand):
                return cand
    return None

files = []
for d, _, fs in os.walk(root):
    for f in fs:
        if f.endswith('.rs'):
            files.append(os.path.join(d, f))

edges = {}
for f in files:
    text = open(f, encoding='utf-8').read()
    cut = text.find('#[cfg(test)]\nmod tests')
    if cut >= 0:
        text = text[:cut]
    text = re.sub(r'//[^\n]*', '', text)
    me = module_of(f)
    # `use a::{b, c::d}` groups: expand one level of braces.
    paths = []
    for m in re.finditer(r'\b(crate|super)((?:::\w+)+)(::\{([^}]*)\})?', text):
        head = [m.group(1)] + m.group(2).strip(':').split('::')
        if m.group(4):
            for item in m.group(4).split(','):
                item = item.strip().split(' ')[0]
                if item and item != 'self':
                    paths.append(head + item.split('::'))
                elif item == 'self':
                    paths.append(head)
        else:
            paths.append(head)
    out = set()
    for p in paths:
        if p[0] == 'crate':
            parts = p[1:]
        else:
            base = me[:-1] if not f.endswith('mod.rs') else me[:-1]
            # `super` in a.rs (module a) is the parent of a
            base = me[:-1]
            parts = base + p[1:]
        t = file_of(parts)
        if t and t != f:
            out.add(t)
    edges[f] = out

# Tarjan's SCC
index = {}; low = {}; stack = []; on = set(); sccs = []; counter = [0]
sys.setrecursionlimit(10000)
def strong(v):
    index[v] = low[v] = counter[0]; counter[0] += 1
    stack.append(v); on.add(v)
    for w in edges.get(v, ()):
        if w not in index:
            strong(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v:
                break
        sccs.append(comp)
for v in edges:
    if v not in index:
        strong(v)
bad = 0
for c in sccs:
    if len(c) > 1:
        bad = 1
        print('cycle:', ' '.join(sorted(os.path.relpath(x, root) for x in c)))
render = os.path.join(root, 'render')
for f, ts in sorted(edges.items()):
    if f.startswith(render) or os.path.basename(f) in ('run.rs', 'main.rs', 'lib.rs', 'cli.rs'):
        continue
    for t in ts:
        if t.startswith(render):
            bad = 1
            print('imports render/:', os.path.relpath(f, root), '->', os.path.relpath(t, root))
print('no import cycles' if not bad else '')
sys.exit(bad)
