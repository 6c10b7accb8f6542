#!/usr/bin/python3
# Video polling written with asyncio + aiohttp (Debian python3-aiohttp), no framework: creates N
# jobs on the OpenAI videos simulator (POST /v1/videos), then polls each every interval (plus up to
# 20% jitter, like the bot's job manager) with GET /v1/videos/{id} over the session's keep-alive
# pool, keeping each job's last state in memory. Prints one JSON line: polls in the window, the
# process's CPU (utime+stime) per poll, RSS before and after the jobs exist, and event-loop lag
# p99 (a 1 ms timer armed every 20 ms, measured as the bot's probe does).
#
#   aiohttp_poll.py <openai-base-url> <jobs> <interval-ms> <window-s>
import asyncio
import json
import os
import random
import sys
import time

import aiohttp


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_s():
    return time.process_time()  # CLOCK_PROCESS_CPUTIME_ID: utime+stime of every thread, in ns


class Poller:
    def __init__(self, session, base, interval):
        self.session, self.base, self.interval = session, base, interval
        self.states = {}  # job id -> (status, progress)
        self.polls = self.errors = 0

    async def create(self, body):
        async with self.session.post(self.base + "/videos", json=body) as r:
            v = await r.json()
            if r.status != 200:
                raise RuntimeError(f"create: status {r.status}")
        self.states[v["id"]] = (v["status"], v.get("progress"))
        return v["id"]

    async def run_job(self, job_id):
        while True:
            await asyncio.sleep(self.interval * (1 + random.random() / 5))
            self.polls += 1
            try:
                async with self.session.get(f"{self.base}/videos/{job_id}") as r:
                    v = await r.json()
                    if r.status != 200:
                        raise RuntimeError(f"status {r.status}")
                self.states[job_id] = (v["status"], v.get("progress"))
                if v["status"] in ("completed", "failed"):
                    return
            except (aiohttp.ClientError, RuntimeError, ValueError):
                self.errors += 1


async def lag_probe(samples):
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(0.02)
        armed = time.monotonic()
        fired = loop.create_future()
        loop.call_later(0.001, fired.set_result, None)
        await fired
        samples.append(max(0.0, (time.monotonic() - armed) * 1000.0 - 1.0))


async def main():
    base, jobs, interval_ms, window_s = sys.argv[1].rstrip("/"), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    interval = interval_ms / 1000.0
    connector = aiohttp.TCPConnector(limit=32)  # the bot's pool has 32 too
    async with aiohttp.ClientSession(connector=connector, headers={"Authorization": "Bearer sk-bench"}) as session:
        await asyncio.sleep(0.2)
        rss_before = rss_kb()
        p = Poller(session, base, interval)
        # The job the bot submits, prompt and all, so that every poll reads the same answer as the bot's.
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "video_job.json")) as f:
            body = json.load(f)
        tasks = []
        remaining = iter(range(jobs))

        async def creator():
            for _ in remaining:
                job_id = await p.create(body)
                tasks.append(asyncio.create_task(p.run_job(job_id)))

        await asyncio.gather(*(creator() for _ in range(32)))
        await asyncio.sleep(2 * interval)  # settle into steady polling
        rss_jobs = rss_kb()
        polls0, cpu0, t0 = p.polls, cpu_s(), time.monotonic()
        lag = []
        probe = asyncio.create_task(lag_probe(lag))
        await asyncio.sleep(window_s)
        cpu, wall, n = cpu_s() - cpu0, time.monotonic() - t0, p.polls - polls0
        probe.cancel()
        for t in tasks:
            t.cancel()
        lag.sort()
        print(json.dumps({
            "jobs": jobs, "polls": n, "poll_errors": p.errors, "window_s": wall, "cpu_s": cpu,
            "cpu_us_per_poll": cpu * 1e6 / n if n else None,
            "rss_before_kb": rss_before, "rss_jobs_kb": rss_jobs,
            "bytes_per_job": (rss_jobs - rss_before) * 1024 / jobs if jobs else None,
            "loop_lag_p99_ms": lag[min(len(lag) - 1, int(0.99 * len(lag)))] if lag else None,
        }), flush=True)
        os._exit(0)  # no orderly teardown of thousands of tasks: the figures are out


if __name__ == "__main__":
    asyncio.run(main())
