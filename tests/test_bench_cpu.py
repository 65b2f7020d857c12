"""The mixed run's account of where the CPU went (bench/run.py's CpuUse): the bench's claim that
a rate is out of reach rests on it, so it is checked against work of known size."""

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/stat").exists(), reason="reads Linux's /proc")


@pytest.fixture(scope="module")
def bench():
    path = Path(__file__).resolve().parent.parent / "bench" / "run.py"
    spec = importlib.util.spec_from_file_location("bench_run", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def spin(seconds):
    ends = time.process_time() + seconds
    while time.process_time() < ends:
        pass


def test_a_workers_cpu_and_the_clients_are_told_apart(bench):
    # A stand-in worker that spins for 0.6 s of CPU while this process, the client, spins 0.3.
    worker = subprocess.Popen([sys.executable, "-c",
                               "import sys, time\ninput()\nends = time.process_time() + 0.6\n"
                               "while time.process_time() < ends: pass\nprint('done', flush=True)\n"
                               "time.sleep(30)"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        start = bench.CpuUse.now([worker.pid])
        worker.stdin.write("go\n")
        worker.stdin.flush()
        spin(0.3)
        assert worker.stdout.readline() == "done\n"  # however busy the machine, its spin is over
        used = bench.CpuUse.now([worker.pid]).since(start)
    finally:
        worker.kill()
        worker.wait()
    assert 0.45 <= used["workers"] <= 0.75
    assert 0.25 <= used["client"] <= 0.4
    # The machine was at least as busy as the two together; nothing is counted twice.
    assert used["machine"] >= 0.8 * (used["workers"] + used["client"])
    assert used["rest"] >= 0 and used["elapsed"] >= 0.3


def test_a_process_gone_counts_nothing(bench):
    assert bench.process_ticks(999_999_999) == 0


def test_the_ceiling_follows_from_the_cpu_a_request(bench):
    line = bench.cpu_line({"machine": 120.0, "workers": 110.0, "database": 0.0, "client": 8.0,
                           "rest": 2.0, "elapsed": 60.0}, 6000)
    cores = bench.os.cpu_count()
    assert "gunicorn's workers 1.83 cores (18.3 ms a request)" in line
    assert f"At 20.0 ms of CPU a request, {cores} cores serve at most {cores * 50} requests a " \
           "second" in line
