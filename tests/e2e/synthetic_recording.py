"""Writes gort recordings (docs/file-format.md) from Python, for the hostile-input tests and the
replay benchmark: valid headers, chunks and records that gort's own recorder never writes in
these proportions (a chunk of a million identical pauses, a day of ticks). Chunks are compressed
with the zstd command (package zstd, scripts/install-deps.sh)."""

import struct
import subprocess
import zlib

MAGIC = b"\x89GORT\r\n\x1a"
STW_EVENT = 1
GC_SWEEP_TERMINATION = 1  # stwReason values as the recorded names below index them
REASONS = ["unknown", "GC sweep termination", "GC mark termination"]


def s(b):
    b = b.encode() if isinstance(b, str) else b
    return struct.pack("<I", len(b)) + b


def record(rtype, body):
    return struct.pack("<HHI", rtype, 0, len(body)) + body


def process(pid, t0, comm="synthetic", reasons=REASONS):
    body = struct.pack("<IQ", pid, t0) + s(comm) + s("/synthetic/" + comm) + s("go1.27.0")
    body += struct.pack("<Qq", 0, 0) + struct.pack("<I", 0)
    body += struct.pack("<I", len(reasons)) + b"".join(s(r) for r in reasons)
    return record(1, body)


def stw(pid, start, dur, reason=GC_SWEEP_TERMINATION):
    return record(3, struct.pack("<IIQQQII", STW_EVENT, pid, start + dur, start, start + dur, reason, 0))


def counters(pid, mono, wall, gc_cycles, pauses):
    stats = struct.pack("<QQQQqqQQQQQQ", 0, 0, 0, 0, 0, 0, gc_cycles, pauses, 0, 0, 0, 0)
    return record(4, struct.pack("<IQq", pid, mono, wall) + stats + struct.pack("<II", 0, 0))


def tick(mono, wall):
    return record(5, struct.pack("<Qq", mono, wall))


def end(mono, wall):
    return record(7, struct.pack("<Qq", mono, wall))


class Writer:
    def __init__(self, path, start_mono=10**9, start_wall=1_700_000_000 * 10**9, level=3):
        self.f = open(path, "wb")
        self.seq = 0
        self.level = level
        self.last = None
        body = s("synthetic-host") + s("Linux synthetic") + struct.pack("<qQQQ", start_wall, start_mono,
                                                                        1_000_000, 10**9)
        prefix = MAGIC + struct.pack("<II", 1, len(body))
        self.f.write(prefix + body + struct.pack("<I", zlib.crc32(prefix + body)))

    def chunk(self, raw):
        if self.last and self.last[0] is raw:
            z = self.last[1]  # the same chunk again (a bomb repeats one): compressed once
        else:
            z = self._compress(raw)
            self.last = (raw, z)
        frame = b"GCHK" + struct.pack("<III", self.seq, len(z), len(raw))
        self.f.write(frame + struct.pack("<I", zlib.crc32(frame + z)) + z)
        self.seq += 1

    def _compress(self, raw):
        return subprocess.run(["zstd", "-q", "-c", "-%d" % self.level] + (["--ultra"] if self.level > 19 else []),
                              input=raw, capture_output=True, check=True).stdout

    def close(self):
        self.f.close()


def gc_day(path, seconds, pid=4242):
    """A recording of one process doing one GC per second (two STW pauses) for `seconds`."""
    w = Writer(path)
    t0, wall0 = 10**9, 1_700_000_000 * 10**9
    raw = [process(pid, t0)]
    pending = 0
    for i in range(1, seconds + 1):
        now = t0 + i * 10**9
        raw.append(stw(pid, now - 5_000_000, 100_000 + (i * 7919) % 500_000, 1))
        raw.append(stw(pid, now - 2_000_000, 50_000 + (i * 104729) % 300_000, 2))
        raw.append(counters(pid, now, wall0 + i * 10**9, i, 2 * i))
        raw.append(tick(now, wall0 + i * 10**9))
        pending += 1
        if pending == 2000:
            w.chunk(b"".join(raw))
            raw, pending = [], 0
    now = t0 + (seconds + 1) * 10**9
    raw.append(end(now, wall0 + (seconds + 1) * 10**9))
    w.chunk(b"".join(raw))
    w.close()


def bomb(path, chunks, pauses_per_chunk, pid=4242):
    """A small file of valid, highly compressible chunks: every chunk decompresses to
    pauses_per_chunk identical 40-byte STW records (about 15 MiB for 400k), a few KB each."""
    w = Writer(path, level=19)
    t0 = 10**9
    w.chunk(process(pid, t0))
    one = stw(pid, t0 + 1000, 1000)
    raw = one * pauses_per_chunk
    for _ in range(chunks):
        w.chunk(raw)
    w.close()
