"""multiprocessing.Pipe one way: a parent sends n messages, a child process receives them.

    python3 pipe_oneway.py <n> <extra_bytes>

Message: {"id": i, "name": "rose", "ts": 1.5}, plus "data": bytes(extra_bytes) when > 0.
Prints {"ops_per_sec": ...} on its last line (the child's clock at its last recv).
"""
import json
import sys
import time
from multiprocessing import Pipe, Process


def consume(reader, n, report):
    report.send("ready")
    for _ in range(n):
        reader.recv()
    report.send(time.perf_counter())


def main():
    n, extra = int(sys.argv[1]), int(sys.argv[2])
    reader, writer = Pipe(duplex=False)
    report_r, report_w = Pipe(duplex=False)
    child = Process(target=consume, args=(reader, n, report_w))
    child.start()
    assert report_r.recv() == "ready"
    data = bytes(extra)
    t0 = time.perf_counter()
    if extra:
        for i in range(n):
            writer.send({"id": i, "name": "rose", "ts": 1.5, "data": data})
    else:
        for i in range(n):
            writer.send({"id": i, "name": "rose", "ts": 1.5})
    t1 = report_r.recv()
    child.join()
    print(json.dumps({"ops_per_sec": n / (t1 - t0)}))


if __name__ == "__main__":
    main()
