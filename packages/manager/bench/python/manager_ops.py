"""multiprocessing.Manager baselines for @conc/manager's benchmarks.

    python3 manager_ops.py getset <n>      one dict __setitem__ or __getitem__ per op, each awaited
    python3 manager_ops.py locked_add <n>  with lock: d[k] += 1  (acquire, get, set, release)

Prints {"ops_per_sec": ...} on its last line (for locked_add: increments per second).
"""
import json
import sys
import time
from multiprocessing import Manager


def main():
    mode, n = sys.argv[1], int(sys.argv[2])
    with Manager() as m:
        d = m.dict()
        d["k"] = 0
        lock = m.Lock()
        if mode == "getset":
            for i in range(min(2000, n)):
                d["k"] = i
                d["k"]
            t = time.perf_counter()
            for i in range(n // 2):
                d["k"] = i
                d["k"]
            elapsed = time.perf_counter() - t
            print(json.dumps({"ops_per_sec": (n // 2) * 2 / elapsed}))
        elif mode == "locked_add":
            for i in range(min(500, n)):
                with lock:
                    d["k"] += 1
            t = time.perf_counter()
            for i in range(n):
                with lock:
                    d["k"] += 1
            elapsed = time.perf_counter() - t
            print(json.dumps({"ops_per_sec": n / elapsed}))
        else:
            raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
