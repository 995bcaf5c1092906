#!/usr/bin/env python3
"""Aggregates `twiggy top --format csv` of the Worker's wasm (names kept) by crate: raw bytes of code
and data per crate, largest first, then the largest single items. Used by scripts/size-report.sh."""
import csv
import re
import sys
from collections import Counter

rows = [(int(r["ShallowSize"]), r["Name"]) for r in csv.DictReader(open(sys.argv[1]))]
by_crate, items = Counter(), []
for size, name in rows:
    # Not shipped: wasm-bindgen's descriptor functions and sections are removed by wasm-bindgen.
    if name.startswith(("custom section", "export ")) or "subsection" in name or "describe" in name:
        continue
    if name.startswith("data"):
        crate = "(data)"
    else:
        bare = re.sub(r"^[<&\s]*(mut\s+|dyn\s+)*", "", name)
        match = re.match(r"([A-Za-z_][A-Za-z0-9_]*)", bare)
        crate = match.group(1) if match else "(other)"
    by_crate[crate] += size
    items.append((size, name))

total = sum(by_crate.values())
print(f"| crate (first path segment) | raw bytes | share |\n|---|---:|---:|")
for crate, size in by_crate.most_common(25):
    print(f"| {crate} | {size:,} | {100 * size / total:.1f} % |")
print(f"| total | {total:,} | |\n")
print("| largest items | raw bytes |\n|---|---:|")
for size, name in sorted(items, reverse=True)[:20]:
    print(f"| `{re.sub(r'::h[0-9a-f]{16}$', '', name)[:110]}` | {size:,} |")
