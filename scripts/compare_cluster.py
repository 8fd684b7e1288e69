#!/usr/bin/env python3
"""Compare `hydra cluster` with NetworKit PLM and igraph Leiden on the same graphs.

For each graph (an edge list `u v` per line, 0-based ids, and a truth file with
one community id per line, e.g. written by `cargo run --release --example lfr`)
this runs, one after the other and each in its own process:

- `hydra cluster` (Leiden, modularity, resolution 1, seed 42): the whole
  command's wall time and peak RSS (from wait4, like /usr/bin/time -v), and
  the read and detection times it prints;
- NetworKit's PLM (parallel Louvain, `nk.community.PLM(G, refine=False)`,
  NetworKit's defaults) and igraph's Leiden (`community_leiden(objective_function=
  "modularity", n_iterations=N)`, default N = 2 as igraph's, -1 = to convergence):
  time around the detection call alone, and the process's peak RSS
  (resource.getrusage ru_maxrss, which includes the loaded graph, as hydra's does).

CPU seconds (user + system, all threads) are reported too, since wall times
mean little on a shared machine: for hydra those of the whole command, for the
Python tools those of the detection call alone.

Every partition is then scored the same way in this process: modularity by
igraph's `Graph.modularity` (resolution 1) and NMI against the truth by
`igraph.compare_communities(method="nmi")` (Danon et al., arithmetic-mean
normalization, the same definition as hydra's `nmi`).

Usage:
    python3 scripts/compare_cluster.py --hydra target/release/hydra --threads 2 \
        --graph lfr-100k-mu0.3 /tmp/lfr-100k-0.3.txt /tmp/lfr-100k-0.3.truth [--graph ...]

Prints a Markdown table (one row per graph and tool) for BENCHMARKS.md.
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time


def peak_rss_mib():
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cpu_seconds():
    # User + system time of every thread of this process so far.
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def read_truth(path):
    with open(path) as f:
        return [int(line) for line in f]


def write_membership(path, membership):
    with open(path, "w") as f:
        f.write("\n".join(str(c) for c in membership))
        f.write("\n")


def worker(tool, edges, nodes, threads, iterations, out):
    """Runs one Python tool in this (fresh) process and prints a JSON record."""
    started = time.perf_counter()
    if tool == "plm":
        import networkit as nk

        nk.setNumberOfThreads(threads)
        reader = nk.graphio.EdgeListReader(" ", 0, commentPrefix="#", continuous=True, directed=False)
        g = reader.read(edges)
        if g.numberOfNodes() < nodes:
            g.addNodes(nodes - g.numberOfNodes())
        load = time.perf_counter() - started
        rss_before = peak_rss_mib()
        t, c = time.perf_counter(), cpu_seconds()
        plm = nk.community.PLM(g, refine=False)
        plm.run()
        detect, cpu = time.perf_counter() - t, cpu_seconds() - c
        partition = plm.getPartition()
        membership = [partition[v] for v in range(g.numberOfNodes())]
    elif tool == "igraph":
        import igraph as ig

        random.seed(42)
        g = ig.Graph.Read_Edgelist(edges, directed=False)
        if g.vcount() < nodes:
            g.add_vertices(nodes - g.vcount())
        load = time.perf_counter() - started
        rss_before = peak_rss_mib()
        t, c = time.perf_counter(), cpu_seconds()
        clustering = g.community_leiden(objective_function="modularity", n_iterations=iterations)
        detect, cpu = time.perf_counter() - t, cpu_seconds() - c
        membership = clustering.membership
    else:
        raise SystemExit(f"unknown tool {tool}")
    peak = peak_rss_mib()
    write_membership(out, membership)
    print(json.dumps({"load": load, "detect": detect, "cpu": cpu, "peak_mib": peak,
                      "rss_before_mib": rss_before}))


def run_measured(cmd):
    """Runs `cmd`; returns (stdout, wall seconds, peak RSS MiB, CPU seconds of the child)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        # wait4 on this child gives its own rusage (ru_maxrss in KiB), unlike
        # RUSAGE_CHILDREN, the maximum over all children so far.
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - started
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if p.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}):\n{err.read()}")
        return out.read(), wall, usage.ru_maxrss / 1024.0, usage.ru_utime + usage.ru_stime


def parse_hydra(stdout):
    values = {}
    for line in stdout.splitlines():
        key, _, rest = line.partition(": ")
        values[key] = rest
    seconds = lambda key: float(values[key].split()[0])
    return {"load": seconds("read"), "detect": seconds("detect"), "total": seconds("total")}


def score(edges, truth, memberships):
    import igraph as ig

    g = ig.Graph.Read_Edgelist(edges, directed=False)
    if g.vcount() < len(truth):
        g.add_vertices(len(truth) - g.vcount())
    rows = {}
    for tool, membership in memberships.items():
        rows[tool] = {
            "communities": len(set(membership)),
            "modularity": g.modularity(membership),
            "nmi": ig.compare_communities(truth, membership, method="nmi"),
        }
    return g.vcount(), g.ecount(), rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hydra", default="target/release/hydra", help="path to the hydra binary")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for hydra and PLM")
    ap.add_argument("--hydra-args", default="",
                    help="extra arguments for `hydra cluster`, e.g. \"--parallel-moving\"")
    ap.add_argument("--tools", default="hydra,plm,igraph", help="comma-separated subset of hydra,plm,igraph")
    ap.add_argument("--igraph-iterations", type=int, default=2, help="igraph Leiden n_iterations (-1: converge)")
    ap.add_argument("--graph", nargs=3, action="append", metavar=("NAME", "EDGES", "TRUTH"), required=True)
    ap.add_argument("--json", help="also write the raw results to this file")
    args = ap.parse_args()
    tools = args.tools.split(",")

    results = []
    with tempfile.TemporaryDirectory(prefix="compare-cluster-") as tmp:
        for name, edges, truth_path in args.graph:
            truth = read_truth(truth_path)
            measured, memberships = {}, {}
            for tool in tools:
                out = os.path.join(tmp, f"{tool}.txt")
                if tool == "hydra":
                    cmd = [args.hydra, "--threads", str(args.threads), "cluster", "--edges", edges,
                           "--truth", truth_path, "--out", out] + args.hydra_args.split()
                    stdout, wall, peak, cpu = run_measured(cmd)
                    m = parse_hydra(stdout)
                    # CPU of the whole command (read, detect, write, scores).
                    m.update({"wall": wall, "peak_mib": peak, "cpu": cpu})
                else:
                    cmd = [sys.executable, __file__, "--worker", tool, edges, str(len(truth)),
                           str(args.threads), str(args.igraph_iterations), out]
                    stdout, wall, _, _ = run_measured(cmd)
                    m = json.loads(stdout.strip().splitlines()[-1])
                    m.update({"wall": wall, "total": None})
                memberships[tool] = read_truth(out)
                measured[tool] = m
                print(f"{name} {tool}: {m}", file=sys.stderr)
            n, e, scores = score(edges, truth, memberships)
            for tool in tools:
                results.append({"graph": name, "nodes": n, "edges": e, "tool": tool,
                                **measured[tool], **scores[tool]})

    labels = {"hydra": "hydra cluster (Leiden)", "plm": "NetworKit PLM",
              "igraph": f"igraph Leiden (n_iterations={args.igraph_iterations})"}
    print("| graph | nodes / edges | tool | load s | detect s | whole command s | CPU s "
          "| peak RSS MiB | communities | modularity | NMI |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        whole = f"{r['total']:.2f}" if r["total"] is not None else "–"
        print(f"| {r['graph']} | {r['nodes']:,} / {r['edges']:,} | {labels[r['tool']]} "
              f"| {r['load']:.2f} | {r['detect']:.2f} | {whole} | {r['cpu']:.2f} | {r['peak_mib']:.0f} "
              f"| {r['communities']:,} | {r['modularity']:.4f} | {r['nmi']:.4f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        _, _, tool, edges, nodes, threads, iterations, out = sys.argv
        worker(tool, edges, int(nodes), int(threads), int(iterations), out)
    else:
        main()
