"""Benchmark of `POST /api/v1/detect` over loopback: latency percentiles with 50 concurrent clients.

    .venv/bin/python bench/bench_detect_api.py [--clients 50] [--seconds 30] [--interval-ms 0] [--workers 1]
                                               [--postgres [URL]]

A fresh SQLite platform (or with --postgres a fresh database `fanzha_bench_api` on that server, dropped at the end;
migrated, small demo county for a user and a bearer token) is served by a real uvicorn
server (`--workers N` processes, as `fanzha serve --workers N`); each of the clients keeps one keep-alive connection
(a minimal HTTP/1.1 client on asyncio streams, so the load generator takes little of the two cores) and posts one message at a time, the next as soon as the answer arrives (`--interval-ms 0`,
closed loop: the server is kept saturated) or one every N ms (paced; each client starts at its own seeded random
moment within the first interval, as independent users would, unless `--burst` starts them all together).
Messages are 24 fixed SMS and chat lines (scam, spam, ordinary), so every request does the whole route: bearer-token
check in the database, blocklist look-up, normalisation, rules, model. Prints one JSON line with the machine, the
load average, the percentiles and the CPU time per request of the server (user + system, all its processes) and of
the load generator.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_warning_import import DEFAULT_PG, cpu_name, drop_database, fresh_database  # noqa: E402

TEXTS = [
    "【京东金融】您的校园贷账户未注销，将影响个人征信，请致电13912345678办理注销",
    "您好，我是淘宝客服，您购买的商品有质量问题，现在为您办理双倍理赔，请加QQ 987654321",
    "兼职刷单，日结三百，先垫付后返佣金，加微信 jz_2048a 领任务",
    "您的ETC已失效，请立即登录 etc-rz.top 认证，逾期将停用",
    "我是公安局民警，你涉嫌洗钱，需要把资金转到安全账户配合调查，不要告诉家人",
    "导师带单炒虚拟币，稳赚不赔，下载APP后充值即可",
    "网贷额度已批，需要先交解冻金才能放款",
    "恭喜您抽中二等奖，请访问 cj-lq.top 领取，需先缴纳手续费",
    "澳门娱乐城首充送彩金，百家乐真人视讯",
    "办证刻章，代开发票，联系 13800001111",
    "妈，我换了新号码，急需用钱，先转两千到这张卡上",
    "领导让你明天来我办公室一趟，先帮我转一笔钱给客户",
    "晚上回家吃饭吗？我买了排骨",
    "明天上午十点开会，请准时参加",
    "快递已放在小区门口的丰巢柜，取件码 123456",
    "本月话费账单已出，共计58.5元，请及时缴费",
    "全场五折起，限时抢购，回T退订",
    "您的验证码是 842913，五分钟内有效，请勿泄露给他人",
    "周末一起去爬山吧，天气预报说是晴天",
    "会员日特惠，满100减30，详情请到店咨询，拒收请回复R",
    "孩子今天在学校表现很好，作业已经完成",
    "您好，我是小区物业，明天上午停水两小时",
    "老师，孩子今天发烧请假一天",
    "你好，请问这个房子还出租吗",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare(data_dir: Path, database_url: str = "") -> dict[str, str]:
    database_url = database_url or f"sqlite:///{data_dir / 'bench.db'}"
    env = dict(os.environ, FANZHA_DATA_DIR=str(data_dir), FANZHA_DATABASE_URL=database_url,
               FANZHA_ARGON2_TIME_COST="1", FANZHA_ARGON2_MEMORY_KIB="1024")
    env.pop("FANZHA_QUEUE_URL", None)
    subprocess.run([sys.executable, "-m", "fanzha.cli.main", "db", "upgrade"], env=env, check=True,
                   capture_output=True)
    subprocess.run([sys.executable, "-m", "fanzha.cli.main", "demo", "--people", "100", "--password", "Bench@2026"],
                   env=env, check=True, capture_output=True)
    return env


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and all its descendants (uvicorn's worker processes)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as fh:
                    stat = fh.read()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            with open(f"/proc/{p}/stat", encoding="utf-8") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


class _Connection:
    """One keep-alive HTTP/1.1 connection speaking just enough of the protocol to post JSON and read the answer.

    The load generator shares the two cores with the server, so it must cost little: httpx spends about as much
    CPU per request as the server does, which would halve what the server gets. Requests are prebuilt bytes; the
    answer is read by its Content-Length (uvicorn always sends one for these JSON answers)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, request: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", head).group(1))
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _requests(host: str, port: int, token: str) -> list[bytes]:
    out = []
    for text in TEXTS:
        body = json.dumps({"text": text}, ensure_ascii=False).encode()
        out.append((f"POST /api/v1/detect HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body)
    return out


async def _run(host: str, port: int, token: str, clients: int, seconds: float, interval: float,
               burst: bool = False) -> tuple[list[float], int]:
    import random

    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    offsets = random.Random(0)
    requests = _requests(host, port, token)

    async def one(n: int) -> None:
        nonlocal errors
        conn = _Connection(host, port)
        try:
            i = n
            if interval and not burst:
                await asyncio.sleep(offsets.uniform(0, interval))
            while time.perf_counter() < stop:
                started = time.perf_counter()
                status, body = await conn.post(requests[i % len(requests)])
                took = time.perf_counter() - started
                if status == 200 and body.startswith(b'{"model_version"'):
                    latencies.append(took)
                else:
                    errors += 1
                i += 1
                if interval:
                    await asyncio.sleep(max(0.0, interval - took))
        finally:
            conn.close()

    await asyncio.gather(*(one(n) for n in range(clients)))
    return latencies, errors


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def main() -> None:
    import httpx

    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--interval-ms", type=float, default=0, help="0 = closed loop; N = each client one request per N ms")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument("--burst", action="store_true", help="paced clients all start at once (synchronised bursts)")
    ap.add_argument("--postgres", nargs="?", const=DEFAULT_PG, default="",
                    help=f"serve from a fresh PostgreSQL database on this server instead of SQLite (default {DEFAULT_PG})")
    args = ap.parse_args()
    database_url = fresh_database(args.postgres, "fanzha_bench_api") if args.postgres else ""
    with tempfile.TemporaryDirectory(prefix="fanzha-bench-api-") as tmp:
        env = _prepare(Path(tmp), database_url)
        port = _free_port()
        server = subprocess.Popen([sys.executable, "-m", "uvicorn", "fanzha.web.asgi:app", "--host", "127.0.0.1",
                                   "--port", str(port), "--log-level", "warning", "--no-access-log",
                                   "--workers", str(args.workers)], env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    if httpx.get(base + "/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            token = httpx.post(base + "/api/v1/auth/token",
                               json={"username": "yanpan", "password": "Bench@2026"}).json()["access_token"]
            asyncio.run(_run("127.0.0.1", port, token, 4, 3, 0))  # warm-up: model loaded, connections pooled
            load_before = os.getloadavg()
            cpu_before = _cpu_seconds(server.pid)
            started = time.perf_counter()
            client_cpu = time.process_time()
            latencies, errors = asyncio.run(_run("127.0.0.1", port, token, args.clients, args.seconds,
                                                 args.interval_ms / 1000, args.burst))
            client_cpu = time.process_time() - client_cpu
            wall = time.perf_counter() - started
            cpu = _cpu_seconds(server.pid) - cpu_before
            load_after = os.getloadavg()
        finally:
            server.terminate()
            server.wait(10)
            if args.postgres:
                drop_database(args.postgres, "fanzha_bench_api")
    print(json.dumps({
        "date": dt.datetime.now().isoformat(timespec="seconds"), "cpu": cpu_name(), "nproc": os.cpu_count(),
        "python": sys.version.split()[0], "clients": args.clients, "interval_ms": args.interval_ms,
        "burst": args.burst, "workers": args.workers, "database": "postgresql" if args.postgres else "sqlite",
        "seconds": round(wall, 1), "requests": len(latencies), "errors": errors,
        "requests_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(_pct(latencies, 50), 1), "p90_ms": round(_pct(latencies, 90), 1),
        "p99_ms": round(_pct(latencies, 99), 1), "max_ms": round(max(latencies) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
        "server_cpu_ms_per_request": round(cpu * 1000 / max(1, len(latencies) + errors), 2),
        "client_cpu_ms_per_request": round(client_cpu * 1000 / max(1, len(latencies) + errors), 2),
        "loadavg_before": [round(x, 2) for x in load_before], "loadavg_after": [round(x, 2) for x in load_after],
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
