"""What the Python benchmarks share: which otsd binary, starting it on a free
loopback port over a fresh data directory, and reading its RSS."""
import os, subprocess, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# OTSD_BIN picks another build (A/B runs); the release build otherwise.
BIN = os.environ.get("OTSD_BIN") or os.path.join(
    os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "otsd")


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def start(env_extra):
    """Starts otsd with only PATH, `env_extra` and any MALLOC_* variables of
    ours in its environment; returns the process and its port."""
    data = tempfile.mkdtemp(prefix="otsd-bench.")
    env = {"PATH": os.environ["PATH"], **env_extra}
    env.update({k: v for k, v in os.environ.items() if k.startswith("MALLOC_")})
    proc = subprocess.Popen([BIN, "--data-dir", data, "--listen", "127.0.0.1:0"],
                            env=env, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if "listening on 127.0.0.1:" in line:
            return proc, int(line.rsplit(":", 1)[1])
    raise SystemExit("otsd did not start")
