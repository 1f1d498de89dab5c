"""Python's baseline for the codec benchmark: pickle.dumps + pickle.loads of the
same messages, in operations per second.

  python3 pickle_roundtrip.py N_SMALL N_64K   → {"small": ops/s, "64k": ops/s}
"""
import json
import pickle
import sys
import time

PROTOCOL = pickle.HIGHEST_PROTOCOL


def rate(n, make):
    dumps, loads = pickle.dumps, pickle.loads
    start = time.perf_counter()
    for i in range(n):
        loads(dumps(make(i), PROTOCOL))
    return n / (time.perf_counter() - start)


def main():
    n_small, n_big = int(sys.argv[1]), int(sys.argv[2])
    data = bytes(range(256)) * 256  # 65,536 bytes
    small = rate(n_small, lambda i: {"id": i, "name": "rose", "ts": 1.5})
    big = rate(n_big, lambda i: {"id": i, "name": "rose", "ts": 1.5, "data": data})
    print(json.dumps({"small": small, "64k": big}))


if __name__ == "__main__":
    main()
