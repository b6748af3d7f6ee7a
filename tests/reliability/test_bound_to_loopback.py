"""Every port the running stack listens on is on 127.0.0.1 (or ::1): moto, Trino, and this session's Spark
driver. Read from the kernel (/proc/net/tcp*), for every process of each service's process group."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

LISTEN = "0A"


def _group_members(pgid: int) -> set[int]:
    members = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the command: state, ppid, pgrp, ...
            members.add(int(stat.parent.name))
    return members


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").glob("*"):
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _address(hex_ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    raw = bytes.fromhex(hex_ip)
    if len(raw) == 4:
        return ipaddress.IPv4Address(raw[::-1])
    # IPv6 in /proc is four little-endian 32-bit words
    return ipaddress.IPv6Address(b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4)))


def _listening() -> dict[str, tuple[ipaddress._BaseAddress, int]]:
    """Listening TCP sockets by inode: (address, port)."""
    sockets = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            cols = line.split()
            local, state, inode = cols[1], cols[3], cols[9]
            if state == LISTEN:
                ip, port = local.split(":")
                sockets[inode] = (_address(ip), int(port, 16))
    return sockets


def _is_loopback(address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def test_every_listening_port_of_the_stack_and_the_spark_driver_is_loopback(running_stack, lake_spark):
    listening = _listening()
    services = {name: _group_members(pid) for name, pid in running_stack.pids.items()}
    services["spark driver"] = _children(os.getpid())  # the JVM behind this session's SparkSession
    assert {"moto", "trino"} <= set(services) and all(services.values()), services

    seen = {}
    for name, pids in services.items():
        ports = {listening[i] for pid in pids for i in _socket_inodes(pid) if i in listening}
        assert ports, f"{name}: no listening socket found (is the check reading the right processes?)"
        seen[name] = ports
    exposed = {name: sorted((str(a), p) for a, p in ports if not _is_loopback(a)) for name, ports in seen.items()}
    assert not any(exposed.values()), f"listening beyond loopback: {exposed}"
    assert running_stack.ports["moto"] in {port for _, port in seen["moto"]}
