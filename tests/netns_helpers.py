"""Hosts on one machine for the multi-host test: network namespaces joined by veth
pairs on a private subnet, made and removed by the test itself (root only).

Layout (``sfx`` keeps names unique per run)::

    root ns (the test) --ctl veth 10.A.B+1.0/30-- api ns --bridge 10.A.B.0/24-- w1, w2

The api namespace has a bridge holding one veth end per worker; no namespace gets
a default route and the api one does not forward, so a worker reaches the api
namespace's addresses and nothing else. The root namespace reaches the api one
over a separate /30 (the test drives the API through it).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from dataclasses import dataclass, field


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, check=check)


def _free_subnet() -> tuple[int, int]:
    used = sh("ip", "-4", "-o", "addr").stdout
    for _ in range(100):
        a, b = random.randrange(100, 250), random.randrange(0, 250, 2)
        if f"10.{a}.{b}." not in used and f"10.{a}.{b + 1}." not in used:
            return a, b
    raise RuntimeError("no free 10.x.y.0/24 subnet")


@dataclass
class Hosts:
    """The namespaces and links of one test; ``close`` removes everything."""

    sfx: str = field(
        default_factory=lambda: f"{os.getpid() % 10000:04d}{random.randrange(100)}"
    )
    workers: int = 2
    namespaces: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)

    def __post_init__(self):
        a, b = _free_subnet()
        self.net = f"10.{a}.{b}"
        self.ctl = f"10.{a}.{b + 1}"
        self.api_ns = f"ade{self.sfx}api"

    @property
    def api_ip(self) -> str:
        """The API namespace's address on the workers' subnet."""
        return f"{self.net}.1"

    @property
    def api_ctl_ip(self) -> str:
        """The API namespace's address on the test's control link."""
        return f"{self.ctl}.2"

    def worker_ns(self, i: int) -> str:
        return f"ade{self.sfx}w{i}"

    def worker_link(self, i: int) -> str:
        return f"a{self.sfx}w{i}"

    def up(self) -> None:
        api = self.api_ns
        self._netns(api)
        self._in(api, "ip", "link", "add", "br0", "type", "bridge")
        self._in(api, "ip", "addr", "add", f"{self.api_ip}/24", "dev", "br0")
        self._in(api, "ip", "link", "set", "br0", "up")
        self._in(api, "sh", "-c", "echo 0 > /proc/sys/net/ipv4/ip_forward")
        ctl = f"a{self.sfx}c"
        sh("ip", "link", "add", ctl, "type", "veth", "peer", "name", "ctl0")
        self.links.append(ctl)
        sh("ip", "link", "set", "ctl0", "netns", api)
        sh("ip", "addr", "add", f"{self.ctl}.1/30", "dev", ctl)
        sh("ip", "link", "set", ctl, "up")
        self._in(api, "ip", "addr", "add", f"{self.api_ctl_ip}/30", "dev", "ctl0")
        self._in(api, "ip", "link", "set", "ctl0", "up")
        for i in range(1, self.workers + 1):
            ns, link = self.worker_ns(i), self.worker_link(i)
            self._netns(ns)
            # Made in the api namespace: deleting it there cuts the worker off.
            sh(
                "ip",
                "link",
                "add",
                link,
                "netns",
                api,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                ns,
            )
            self._in(api, "ip", "link", "set", link, "master", "br0")
            self._in(api, "ip", "link", "set", link, "up")
            self._in(ns, "ip", "addr", "add", f"{self.net}.{i + 1}/24", "dev", "eth0")
            self._in(ns, "ip", "link", "set", "eth0", "up")

    def _netns(self, name: str) -> None:
        sh("ip", "netns", "add", name)
        self.namespaces.append(name)
        self._in(name, "ip", "link", "set", "lo", "up")

    def _in(self, ns: str, *args: str) -> subprocess.CompletedProcess:
        return sh("ip", "netns", "exec", ns, *args)

    def exec_prefix(self, ns: str) -> list[str]:
        return ["ip", "netns", "exec", ns]

    def kill_all(self, ns: str) -> None:
        """SIGKILL every process in ``ns`` until none is left."""
        for _ in range(50):
            pids = sh("ip", "netns", "pids", ns, check=False).stdout.split()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            time.sleep(0.1)

    def tear_down_worker(self, i: int) -> None:
        """The worker's host goes dark: its link is cut, its processes die, its
        namespace is removed."""
        self._in(self.api_ns, "ip", "link", "del", self.worker_link(i))
        ns = self.worker_ns(i)
        self.kill_all(ns)
        sh("ip", "netns", "del", ns, check=False)
        self.namespaces.remove(ns)

    def close(self) -> None:
        for ns in reversed(self.namespaces):
            self.kill_all(ns)
            sh("ip", "netns", "del", ns, check=False)
        for link in self.links:
            sh("ip", "link", "del", link, check=False)
        self.namespaces.clear()
        self.links.clear()
