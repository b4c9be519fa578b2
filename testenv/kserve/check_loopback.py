"""Fail unless every listening socket of the given processes (and their children) is on loopback.

Usage: python check_loopback.py PID [PID...]

Reads /proc only (no `ss` needed): socket inodes from /proc/<pid>/fd, addresses from
/proc/<pid>/net/{tcp,tcp6,udp,udp6}. Prints one line per listening socket; exit 1 if one of them
is bound to anything but 127.0.0.0/8 or ::1, exit 2 if a process does not exist.
"""

import ipaddress
import os
import sys

TCP_LISTEN = "0A"


def children(pid):
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as handle:
                found.extend(int(child) for child in handle.read().split())
        except OSError:
            pass
    return found


def socket_inodes(pid):
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    return inodes


def decode(hex_addr, v6):
    addr, port = hex_addr.split(":")
    raw = bytes.fromhex(addr)
    if v6:
        # /proc prints an IPv6 address as four host-order (little-endian) 32-bit words.
        raw = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
    else:
        raw = raw[::-1]
    return ipaddress.ip_address(raw), int(port, 16)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    pids, queue = [], [int(arg) for arg in sys.argv[1:]]
    while queue:
        pid = queue.pop()
        if not os.path.isdir(f"/proc/{pid}"):
            print(f"check_loopback: process {pid} does not exist", file=sys.stderr)
            sys.exit(2)
        pids.append(pid)
        queue.extend(children(pid))
    bad = 0
    for pid in pids:
        inodes = socket_inodes(pid)
        for table in ("tcp", "tcp6", "udp", "udp6"):
            with open(f"/proc/{pid}/net/{table}", encoding="ascii") as handle:
                next(handle)
                for line in handle:
                    fields = line.split()
                    local, state, inode = fields[1], fields[3], fields[9]
                    if inode not in inodes:
                        continue
                    if table.startswith("tcp") and state != TCP_LISTEN:
                        continue
                    addr, port = decode(local, table.endswith("6"))
                    ok = addr.is_loopback
                    bad += not ok
                    print(f"{'ok ' if ok else 'NOT LOOPBACK'} pid {pid} {table} {addr}:{port}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
