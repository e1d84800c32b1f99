#!/usr/bin/env python3
"""Writes the seed corpus for the fuzz targets (corpus/elf, corpus/htif, corpus/virtqueue,
corpus/sbi, corpus/virtio_blk, corpus/virtio_net, corpus/firecracker_api, corpus/jit, and the
snapshot and migration seeds made from the real snapshots in corpus/snapshot). Run from
anywhere; the files are checked in, so this only needs rerunning when the input formats
change."""
import gzip
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
RAM = 0x80000000


def elf(segments, entry=RAM, symbols=(), machine=243):
    """segments: [(vaddr, paddr, bytes, memsz)]; symbols: [(name, value)]."""
    ph = b""
    data = b""
    off = 64 + 56 * len(segments)
    for vaddr, paddr, body, memsz in segments:
        ph += struct.pack("<IIQQQQQQ", 1, 7, off + len(data), vaddr, paddr, len(body), memsz, 8)
        data += body
    body = ph + data
    shoff, shnum = 0, 0
    if symbols:
        strtab = b"\0"
        symtab = bytes(24)
        for name, value in symbols:
            symtab += struct.pack("<IBBHQQ", len(strtab), 0x10, 0, 1, value, 0)
            strtab += name.encode() + b"\0"
        symoff = 64 + len(body)
        stroff = symoff + len(symtab)
        body += symtab + strtab
        shoff = 64 + len(body)
        shdrs = bytes(64)
        shdrs += struct.pack("<IIQQQQIIQQ", 0, 2, 0, 0, symoff, len(symtab), 2, 1, 8, 24)
        shdrs += struct.pack("<IIQQQQIIQQ", 0, 3, 0, 0, stroff, len(strtab), 0, 0, 1, 0)
        body += shdrs
        shnum = 3
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    ehdr = ident + struct.pack("<HHIQQQIHHHHHH", 2, machine, 1, entry, 64, shoff, 0, 64, 56,
                               len(segments), 64, shnum, 0)
    return ehdr + body


def image(text_offset, image_size, body_len, old_magic=False):
    hdr = struct.pack("<IIQQQIIQ", 0x6F, 0, text_offset, image_size, 0, 2, 0, 0)
    hdr += b"RISCV\0\0\0" + (b"\0\0\0\0" if old_magic else b"RSC\x05") + bytes(4)
    return hdr + bytes((i * 7) & 0xFF for i in range(body_len))


def htif(steps, ram_init=None, tohost=0x1000, fromhost=0x1008):
    ram = bytearray(4096)
    for off, b in (ram_init or {}).items():
        ram[off:off + len(b)] = b
    out = struct.pack("<QQ", tohost, fromhost) + bytes(ram)
    for flags, cmd in steps:
        out += bytes([flags]) + struct.pack("<Q", cmd)
    return out


def cmd(dev, c, payload):
    return dev << 56 | c << 48 | payload


# virtqueue_fuzz: ops (low 3 bits): 0-2 pop + consume + push_used, 3 push_used(arg),
# 4 needs_interrupt, 5 enable_notifications, 6 driver publishes arg more, 7 reset + configure.
def vq_op(kind, arg=0):
    return kind | arg << 3


def virtqueue(log2_size, chains, event_idx=False, indirect=False, ops=None, avail_idx=None,
              tables=(), used_event=0, avail_flags=0):
    """chains: list of descriptor lists [(index, addr, len, flags, next)], the first entry of
    each being its head; tables: [(ram offset, [(addr, len, flags, next)])] indirect tables."""
    size = 1 << log2_size
    desc, avail, used = 0x0, 0x1000, 0x2000
    ram = bytearray(0x3000)
    heads = []
    for chain in chains:
        heads.append(chain[0][0])
        for index, addr, length, flags, nxt in chain:
            ram[desc + 16 * index:desc + 16 * index + 16] = struct.pack("<QIHH", addr, length,
                                                                       flags, nxt)
    for off, entries in tables:
        for i, (addr, length, flags, nxt) in enumerate(entries):
            struct.pack_into("<QIHH", ram, off + 16 * i, addr, length, flags, nxt)
    for i, head in enumerate(heads):
        struct.pack_into("<H", ram, avail + 4 + 2 * (i % size), head)
    struct.pack_into("<HH", ram, avail, avail_flags, len(heads) if avail_idx is None else avail_idx)
    struct.pack_into("<H", ram, avail + 4 + 2 * size, used_event)
    ops = ops or [vq_op(0, 4), vq_op(4), vq_op(0, 16), vq_op(4), vq_op(5)] * 3 + [vq_op(6, 1)]
    ops = (ops + [vq_op(4)] * 16)[:16]
    flags = (1 if event_idx else 0) | (2 if indirect else 0) | log2_size << 4
    header = struct.pack("<BHHHB", flags, desc, avail, used, 0)
    return header + bytes(ops) + bytes(ram)


# sbi_fuzz: EID selectors index its table of known EIDs; 0xF0 and up take the EID and FID from
# a0's halves. Flag bits 0-5 fold a0-a5 into RAM, bit 6 makes a0 a small length, bit 7 uses the
# ecall instruction path.
SBI_SEL = {"set_timer": 0, "putchar": 1, "getchar": 2, "clear_ipi": 3, "shutdown": 8,
           "legacy_0f": 9, "base": 10, "time": 11, "ipi": 12, "rfence": 13, "hsm": 14,
           "srst": 15, "dbcn": 16, "pmu": 19, "raw": 0xF0}
SBI_ECALL = 0x80


def sbi(steps, console=b""):
    """steps: [(flags, selector name, fid, [a0..a5])]; console: bytes the console read returns
    (fewer than one step's 51 bytes)."""
    out = b""
    for flags, sel, fid, args in steps:
        args = (list(args) + [0] * 6)[:6]
        out += bytes([flags, SBI_SEL[sel], fid]) + struct.pack("<6Q", *[a & (2**64 - 1) for a in args])
    assert len(console) < 51
    return out + console


# virtio_blk_fuzz: flags (bit 0 EVENT_IDX, 1 INDIRECT_DESC, 2 read-only, 3 FLUSH, 4 DISCARD,
# 5 WRITE_ZEROES, 6 async disk), log2 queue size, u16 RAM length, RAM (descriptor table 0x0,
# avail 0x400, used 0x800), steps {op, a, b}: op % 6 = 0 kick, 1 publish a % 8 more,
# 2 poke RAM[(a << 8 | b)], 3 reset, 4 disk fails, 5 save/restore.
BLK_ALL = 8 | 16 | 32


def blk_req(kind, sector, buffers):
    """A request as Linux lays it out: 16-byte header, then buffers [(len, writable, fill)]."""
    return (struct.pack("<IIQ", kind, 0, sector), buffers)


def virtio_blk(requests, flags=BLK_ALL, log2_size=4, steps=(), indirect_tables=()):
    """requests: blk_req(...) chains, or ("raw", [(addr offset, len, desc flags)]) for chains
    built by hand; indirect_tables: [(ram offset, [(addr offset, len, desc flags, next)])]."""
    size = 1 << log2_size
    ram = bytearray(0x3000)
    data = 0xC00
    desc = 0
    heads = []
    for req in requests:
        bufs = []
        if req[0] == "raw":
            bufs = [(RAM + off if off < 0x10000 else off, length, fl) for off, length, fl in req[1]]
        else:
            header, buffers = req
            ram[data:data + len(header)] = header
            bufs.append((RAM + data, len(header), 0))
            data = (data + len(header) + 15) & ~15
            for length, writable, fill in buffers:
                ram[data:data + length] = bytes([fill]) * length
                bufs.append((RAM + data, length, 2 if writable else 0))
                data = (data + length + 15) & ~15
        heads.append(desc % size)
        for k, (addr, length, fl) in enumerate(bufs):
            nxt = (desc + 1) % size
            if k + 1 < len(bufs):
                fl |= 1
            struct.pack_into("<QIHH", ram, 16 * (desc % size), addr, length, fl, nxt)
            desc += 1
    end = data
    for off, entries in indirect_tables:
        for i, (addr, length, fl, nxt) in enumerate(entries):
            struct.pack_into("<QIHH", ram, off + 16 * i, RAM + addr, length, fl, nxt)
            end = max(end, off + 16 * (i + 1), addr + length)
    for i, head in enumerate(heads):
        struct.pack_into("<H", ram, 0x400 + 4 + 2 * (i % size), head)
    struct.pack_into("<HH", ram, 0x400, 0, len(heads))
    ram = bytes(ram[:end])
    out = bytes([flags, log2_size]) + struct.pack("<H", len(ram)) + ram
    for op, a, b in steps:
        out += bytes([op, a, b])
    return out


def virtio_blk_seeds():
    seg = lambda sector, count, fl: struct.pack("<QII", sector, count, fl)
    IN, OUT, FLUSH, GET_ID, DISCARD, ZEROES = 0, 1, 4, 8, 11, 13
    return {
        "virtio_blk/read_write": virtio_blk([
            blk_req(IN, 2, [(1024, True, 0x5a), (1, True, 0xff)]),
            blk_req(OUT, 5, [(512, False, 0x11), (512, False, 0x22), (1, True, 0xff)]),
            blk_req(IN, 5, [(512, True, 0), (513, True, 0)]),
        ], steps=[(0, 0, 0)]),
        "virtio_blk/flush_get_id": virtio_blk([
            blk_req(FLUSH, 0, [(1, True, 0xff)]),
            blk_req(GET_ID, 0, [(20, True, 0), (1, True, 0xff)]),
            blk_req(GET_ID, 0, [(3, True, 0), (1, True, 0xff)]),
            blk_req(OUT, 0, [(512, False, 0x33), (1, True, 0xff)]),
        ], flags=32 | 16, steps=[(5, 0, 0), (3, 0, 0), (1, 4, 0)]),
        "virtio_blk/discard_zeroes": virtio_blk([
            (struct.pack("<IIQ", DISCARD, 0, 0) + seg(0, 8, 0) + seg(16, 4, 0), [(1, True, 0xff)]),
            (struct.pack("<IIQ", ZEROES, 0, 0) + seg(8, 8, 1), [(1, True, 0xff)]),
            (struct.pack("<IIQ", DISCARD, 0, 0) + seg(0, 8, 1), [(1, True, 0xff)]),
            (struct.pack("<IIQ", ZEROES, 0, 0) + seg(60, 8, 0) + b"\0" * 4, [(1, True, 0xff)]),
        ], steps=[(4, 0, 1), (1, 2, 0)]),
        "virtio_blk/bad_requests": virtio_blk([
            blk_req(IN, 64, [(512, True, 0), (1, True, 0xff)]),
            blk_req(IN, 0xFFFFFFFFFFFFFFFF, [(512, True, 0), (1, True, 0xff)]),
            blk_req(IN, 0, [(100, True, 0), (1, True, 0xff)]),
            blk_req(0x7777, 0, [(1, True, 0xff)]),
            blk_req(OUT, 1, [(512, False, 0x44)]),
        ], steps=[(0, 0, 0), (3, 0, 0), (2, 0x04, 0x02), (1, 1, 0)]),
        "virtio_blk/read_only": virtio_blk([
            blk_req(OUT, 1, [(512, False, 0x44), (1, True, 0xff)]),
            (struct.pack("<IIQ", DISCARD, 0, 0) + seg(0, 8, 0), [(1, True, 0xff)]),
            blk_req(IN, 1, [(512, True, 0), (1, True, 0xff)]),
        ], flags=BLK_ALL | 4),
        "virtio_blk/indirect_async": virtio_blk([
            ("raw", [(0x2000, 48, 4)]),
            blk_req(IN, 3, [(512, True, 0), (1, True, 0xff)]),
        ], flags=BLK_ALL | 1 | 2 | 64, indirect_tables=[
            (0x2000, [(0x2100, 16, 1, 1), (0x2200, 1024, 3, 2), (0x2600, 1, 2, 0)])],
            steps=[(4, 1, 1), (0, 0, 0), (1, 1, 0), (5, 0, 0)]),
    }


# virtio_net_fuzz: flags (bit 0 EVENT_IDX, 1 INDIRECT_DESC, 2 VERSION_1), log2 sizes of
# receiveq and transmitq, up to 32 KiB of RAM (receiveq's rings at 0x0/0x1000/0x1400,
# transmitq's at 0x2000/0x3000/0x3400), steps {op, a, b}: op % 6 = 0 kick transmitq,
# 1 kick receiveq, 2 (op >> 5) + 1 frames of (a << 8 | b) % 9100 bytes from the backend,
# 3 poke RAM[(a << 8 | b)], 4 publish a % 8 more on queue b & 1, 5 reset. Steps follow the
# whole 32 KiB of RAM, so the seeds that inject frames are that long; their receive buffers
# sit above it (RAM the device writes but the input does not set).
NET_RING = ((0x0000, 0x1000), (0x2000, 0x3000))
NET_INIT = 0x8000
NET_V1, NET_EVENT_IDX, NET_INDIRECT = 4, 1, 2
NET_TX_KICK, NET_RX_KICK, NET_FRAMES, NET_POKE, NET_PUBLISH, NET_RESET = range(6)


def net_frame(length, fill=0x5A):
    """An Ethernet frame: broadcast destination, a local source MAC, IPv4's EtherType."""
    head = b"\xff" * 6 + bytes([0x52, 0x54, 0, 0x12, 0x34, 0x99]) + b"\x08\x00"
    return (head + bytes([fill]) * length)[:length]


def net_hdr(v1=True, flags=0, gso=0):
    return struct.pack("<BBHHHH", flags, gso, 0, 0, 0, 0) + (b"\x01\x00" if v1 else b"")


def net_frames(length, count=1):
    """A step injecting `count` (1-8) frames: an op that is NET_FRAMES mod 6 with count - 1
    in its top three bits."""
    op = next(op for op in range((count - 1) << 5, count << 5) if op % 6 == NET_FRAMES)
    return (op, length >> 8, length & 0xFF)


def virtio_net(flags, log2_sizes, rx=(), tx=(), published=None, steps=(), tables=()):
    """rx, tx: chains per queue, each a list of buffers (bytes to read, or an int: that many
    writable bytes); published: how many of each queue's chains the avail index shows at
    first (default all; the rest wait for a publish step); tables: [(queue, chain index,
    [buffers])] put that chain in an indirect table instead."""
    ram = bytearray(0x10000)
    data = [0x3800, 0x8000]  # readable buffers inside the input's RAM, writable ones above
    indirect = {(q, i): bufs for q, i, bufs in tables}

    def place(buf):
        if isinstance(buf, int):
            addr, length, fl = data[1], buf, 2
            data[1] = (data[1] + buf + 15) & ~15
        else:
            addr, length, fl = data[0], len(buf), 0
            ram[addr:addr + length] = buf
            data[0] = (data[0] + length + 15) & ~15
        return RAM + addr, length, fl

    for q, chains in enumerate((rx, tx)):
        size = 1 << log2_sizes[q]
        desc_base, avail = NET_RING[q]
        desc = 0
        for i, chain in enumerate(chains):
            head = desc % size
            if (q, i) in indirect:
                entries = [place(b) for b in indirect[(q, i)]]
                table_at = data[0]
                data[0] += 16 * len(entries)
                for k, (addr, length, fl) in enumerate(entries):
                    nxt = k + 1 if k + 1 < len(entries) else 0
                    struct.pack_into("<QIHH", ram, table_at + 16 * k, addr, length,
                                     fl | (1 if k + 1 < len(entries) else 0), nxt)
                struct.pack_into("<QIHH", ram, desc_base + 16 * head, RAM + table_at,
                                 16 * len(entries), 4, 0)
                desc += 1
            else:
                entries = [place(b) for b in chain]
                for k, (addr, length, fl) in enumerate(entries):
                    more = k + 1 < len(entries)
                    struct.pack_into("<QIHH", ram, desc_base + 16 * (desc % size), addr, length,
                                     fl | (1 if more else 0), (desc + 1) % size)
                    desc += 1
            struct.pack_into("<H", ram, avail + 4 + 2 * (i % size), head)
        shown = len(chains) if published is None else published[q]
        struct.pack_into("<HH", ram, avail, 0, shown)
    body = bytes([flags, log2_sizes[0], log2_sizes[1]])
    if not steps:
        return body + bytes(ram[:data[0]])
    return body + bytes(ram[:NET_INIT]) + b"".join(bytes(s) for s in steps)


def virtio_net_seeds():
    v1 = lambda length, fill=0x5A: net_hdr() + net_frame(length, fill)
    return {
        # Sent at activation: a frame in one buffer, one split after its header, one with the
        # header split, then a runt, a checksum request, GSO and a short header (dropped).
        "virtio_net/tx_activate": virtio_net(NET_V1, (3, 4), tx=[
            [v1(60)],
            [net_hdr(), net_frame(1514, 0x11)],
            [net_hdr()[:5], net_hdr()[5:] + net_frame(100)[:40], net_frame(100)[40:]],
            [v1(13)],
            [net_hdr(flags=1) + net_frame(60)],
            [net_hdr(gso=1) + net_frame(60)],
            [net_hdr()[:7]],
        ]),
        # A legacy driver's 10-byte header, EVENT_IDX, an indirect chain, and a chain with a
        # writable buffer after its frame.
        "virtio_net/tx_legacy_indirect": virtio_net(NET_EVENT_IDX | NET_INDIRECT, (2, 3), tx=[
            [net_hdr(v1=False) + net_frame(64)],
            [],
            [net_hdr(v1=False), net_frame(200), 16],
        ], tables=[(1, 1, [net_hdr(v1=False), net_frame(300, 0x22)])]),
        # Frames that fit, the largest standard one, one too big for its buffer, one while no
        # buffer is posted (waits), buffers published later; transmit kicks in between.
        "virtio_net/rx_frames": virtio_net(NET_V1, (3, 3), rx=[
            [1526], [1526], [12, 1514], [100], [1526], [1526],
        ], tx=[[v1(60)], [v1(98, 0x33)]], published=(4, 1), steps=[
            net_frames(60), net_frames(1514), net_frames(42), net_frames(200),
            net_frames(1000), (NET_PUBLISH, 2, 0), net_frames(14, 3),
            (NET_TX_KICK, 0, 0), (NET_PUBLISH, 1, 1), (NET_RX_KICK, 0, 0),
        ]),
        # More frames than the pending bound before any buffer is published: the backend is
        # paused, then resumed as the driver publishes the same eight buffers again and again.
        "virtio_net/rx_burst": virtio_net(NET_V1 | NET_EVENT_IDX, (3, 0), rx=[[1526]] * 8,
                                          published=(0, 0),
                                          steps=[net_frames(64, 8)] * 34 +
                                          [(NET_PUBLISH, 7, 0)] * 20 + [(NET_RX_KICK, 0, 0)]),
        # Legacy header with split receive buffers, a reset with frames pending (the queues
        # start over on the same rings), a frame too big for its split buffer, and pokes that
        # turn the last receive descriptor into a readable loop (the queue fails).
        "virtio_net/rx_legacy_reset": virtio_net(NET_INDIRECT, (3, 1), rx=[
            [10, 1514], [10, 60], [1524], [1524],
        ], tx=[[net_hdr(v1=False) + net_frame(60)]], published=(1, 1), steps=[
            net_frames(60, 3), (NET_RESET, 0, 0), net_frames(60), (NET_PUBLISH, 1, 0),
            net_frames(80), (NET_POKE, 0x00, 0x5E), (NET_POKE, 0x00, 0x5C),
            (NET_PUBLISH, 2, 0), net_frames(80, 2), (NET_TX_KICK, 0, 0),
        ]),
    }


API_ROUTES = ["GET /", "GET /version", "GET /machine-config", "PUT /machine-config",
              "PATCH /machine-config", "PUT /boot-source", "PUT /drives/rootfs", "PUT /drives/data",
              "PUT /network-interfaces/eth0", "PUT /network-interfaces/eth1", "PUT /actions",
              "PATCH /vm", "GET /vm/config", "GET /vessel/stats", "DELETE /drives/rootfs",
              "PUT /mmds", "PATCH /mmds", "GET /mmds", "PUT /mmds/config", "PUT /entropy"]


def api_requests(records):
    """records: [(route, body text)] or [(route, path, True)] for a path matched instead."""
    out = []
    for record in records:
        selector = API_ROUTES.index(record[0])
        if len(record) == 3:
            out.append(bytes([selector | 0x80]) + record[1].encode())
        else:
            out.append(bytes([selector]) + record[1].encode())
    return b"\xff".join(out)


def firecracker_api_seeds():
    # /proc/self/exe is a regular file wherever the fuzzer runs.
    exe = "/proc/self/exe"
    boot = ("PUT /boot-source", f'{{"kernel_image_path": "{exe}", "initrd_path": "{exe}", '
                                '"boot_args": "console=ttyS0", "vessel_firmware": "builtin"}')
    start = ("PUT /actions", '{"action_type": "InstanceStart"}')
    return {
        "firecracker_api/getting_started": api_requests([
            ("PUT /machine-config", '{"vcpu_count": 2, "mem_size_mib": 512, "smt": false, '
                                    '"vessel_engine": "interp"}'),
            boot,
            ("PUT /drives/rootfs", f'{{"drive_id": "rootfs", "path_on_host": "{exe}", '
                                   '"is_root_device": true, "is_read_only": true}'),
            ("PUT /network-interfaces/eth0", '{"iface_id": "eth0", "vessel_user_net": '
                                             '{"hostfwd": ["tcp::2222-:22"]}, '
                                             '"guest_mac": "06:00:AC:10:00:02"}'),
            ("PUT /network-interfaces/eth1", '{"iface_id": "eth1", "host_dev_name": "tap0"}'),
            start, ("GET /", ""), ("PATCH /vm", '{"state": "Paused"}'), ("GET /vessel/stats", ""),
            ("PATCH /vm", '{"state": "Resumed"}'), ("GET /vm/config", ""),
            ("PUT /drives/data", f'{{"drive_id": "data", "path_on_host": "{exe}", '
                                 '"is_root_device": false}'),
            ("PUT /actions", '{"action_type": "Shutdown"}')]),
        "firecracker_api/bad_values": api_requests([
            ("PUT /machine-config", '{"vcpu_count": 99999999999999999999, "mem_size_mib": -1}'),
            ("PATCH /machine-config", '{"vcpu_count": 1.5, "bogus": null}'),
            ("PATCH /machine-config", '{"vessel_engine": "bogus"}'),
            ("PATCH /machine-config", '{"vessel_engine": ["jit"]}'),
            ("PUT /boot-source", '{"kernel_image_path": "/nonexistent\\u0000x"}'),
            ("PUT /drives/rootfs", '{"drive_id": "other", "path_on_host": "a,b"}'),
            ("PUT /network-interfaces/eth0", '{"iface_id": "eth0", "host_dev_name": "t",'
                                             ' "vessel_user_net": {"hostfwd": [1]}}'),
            ("PUT /actions", '{"action_type": "SendCtrlAltDel"}'),
            ("PATCH /vm", '["Paused"]'), ("PUT /actions", '{"action_type": 7}')]),
        "firecracker_api/paths": api_requests([
            ("PUT /drives/rootfs", "/drives/a%2Fb", True), ("GET /", "/vm/config/", True),
            ("PUT /drives/rootfs", "/drives/%zz", True), ("GET /", "//", True),
            ("PUT /network-interfaces/eth0", "/network-interfaces/" + "x" * 80, True)]),
        # The metadata service: a document PUT, merge-patched (null deletes), over the size
        # limit, the config's rules, then after the start; and the entropy device's limiter.
        "firecracker_api/mmds": api_requests([
            ("PATCH /mmds", '{"early": 1}'),
            ("PUT /mmds", '{"latest": {"meta-data": {"ami-id": "ami-1", "tags": [1, 2]}}}'),
            ("PATCH /mmds", '{"latest": {"meta-data": {"ami-id": null, "zone": "z"}}}'),
            ("PUT /mmds", '{"blob": "' + "x" * 51200 + '"}'), ("PUT /mmds", '["no"]'),
            ("PUT /network-interfaces/eth0", '{"iface_id": "eth0", "vessel_user_net": {}}'),
            ("PUT /network-interfaces/eth1", '{"iface_id": "eth1", "host_dev_name": "tap0"}'),
            ("PUT /mmds/config", '{"network_interfaces": []}'),
            ("PUT /mmds/config", '{"network_interfaces": ["eth1"]}'),
            ("PUT /mmds/config", '{"network_interfaces": ["eth0"], "ipv4_address": "169.254.0.1"}'),
            ("PUT /mmds/config", '{"network_interfaces": ["eth0"], "version": "V2", '
                                 '"ipv4_address": "169.254.170.2", "imds_compat": true}'),
            ("PUT /entropy", '{"rate_limiter": {"bandwidth": {"size": 1024, "one_time_burst": 0, '
                             '"refill_time": 100}, "ops": {"size": 0, "refill_time": 0}}}'),
            ("PUT /entropy", '{"rate_limiter": {"bandwidth": {"size": -1, "refill_time": 1e99}}}'),
            boot, start, ("GET /mmds", ""), ("PATCH /mmds", '{"latest": null}'),
            ("PUT /mmds/config", '{"network_interfaces": ["eth0"]}'), ("GET /vm/config", "")]),
        "firecracker_api/nesting": api_requests([("PUT /actions", "[" * 40 + "]" * 40),
                                                 ("PUT /actions", '{"a": "[[[[\\"]]]"}')]),
    }


def rv_i(opc, rd, f3, rs1, imm):
    return opc | rd << 7 | f3 << 12 | rs1 << 15 | (imm & 0xFFF) << 20


def rv_r(opc, rd, f3, rs1, rs2, f7):
    return opc | rd << 7 | f3 << 12 | rs1 << 15 | rs2 << 20 | f7 << 25


def rv_s(f3, rs1, rs2, imm, opc=0x23):
    return opc | (imm & 0x1F) << 7 | f3 << 12 | rs1 << 15 | rs2 << 20 | ((imm >> 5) & 0x7F) << 25


def rv_b(f3, rs1, rs2, off):
    return (0x63 | ((off >> 11) & 1) << 7 | ((off >> 1) & 0xF) << 8 | f3 << 12 | rs1 << 15 |
            rs2 << 20 | ((off >> 5) & 0x3F) << 25 | ((off >> 12) & 1) << 31)


def code(*insns):
    """32-bit words, and 16-bit compressed ones given as ("c", halfword)."""
    out = b""
    for i in insns:
        out += struct.pack("<H", i[1]) if isinstance(i, tuple) else struct.pack("<I", i)
    return out


def jit_seeds():
    """Input: flags byte (bit 0: wrap in a generated program seeded by the next 8 bytes), then
    code. Registers: s0 (x8) and s1 (x9) point into data, sp (x2) too; a0 = x10."""
    A0, A1, A2, S0, S1, T0, T1 = 10, 11, 12, 8, 9, 5, 6
    addi = lambda rd, rs1, imm: rv_i(0x13, rd, 0, rs1, imm)
    ld = lambda rd, rs1, imm: rv_i(0x03, rd, 3, rs1, imm)
    sd = lambda rs2, rs1, imm: rv_s(3, rs1, rs2, imm)
    alu = code(addi(A0, 0, 5), rv_r(0x33, A1, 0, A0, A0, 0), rv_r(0x33, A2, 4, A1, A0, 1),
               rv_i(0x1B, A1, 0, A2, -7), rv_r(0x3B, A0, 5, A1, A2, 0x20), ("c", 0x0505),
               ("c", 0x8D0D), ld(A1, S0, 3), sd(A0, S1, -5), ("c", 0x6004))
    loop = code(addi(A0, 0, 3), addi(A1, A1, 3), addi(A0, A0, -1), rv_b(1, A0, 0, -8),
                rv_i(0x73, A2, 2, 0, 0xC02))  # csrr a2, instret
    # fadd.d dyn, fsqrt.d rne, fld, amoadd.d, lr.w, sc.w, amoor.w
    fp_amo = code(rv_r(0x53, 1, 7, 2, 3, 0x01), rv_r(0x53, 4, 0, 1, 0, 0x2D),
                  rv_i(0x07, 5, 3, S0, 16), rv_r(0x2F, A0, 3, S0, A1, 0x00),
                  rv_r(0x2F, A1, 2, S1, 0, 0x08), rv_r(0x2F, A2, 2, S1, A0, 0x0C),
                  rv_r(0x2F, A0, 2, S0, A1, 0x20))
    traps = code(0x00100073, ("c", 0x9002), 0x00000073, 0xFFFFFFFF, ld(A0, 0, 8),
                 rv_i(0x73, A0, 1, 0, 0xF14), 0x10500073, 0x30200073)
    # auipc t1, 0; li t0, "addi a0, zero, 0"; sw t0, 16(t1) (the slot, in this block); slot
    smc = code(0x17 | T1 << 7, addi(T0, 0, 0x513), rv_s(2, T1, T0, 16), 0x0000100F,
               addi(A0, A0, 1), addi(A0, A0, 2))
    seed = struct.pack("<Q", 0x1234567)
    return {
        "jit/alu_mem": bytes([0x00]) + alu,
        "jit/loop": bytes([0x02]) + loop,
        "jit/fp_amo": bytes([0x04]) + fp_amo,
        "jit/traps": bytes([0x06]) + traps,
        "jit/smc": bytes([0x08]) + smc,
        "jit/wrapped_alu": bytes([0x01]) + seed + alu,
        "jit/wrapped_traps": bytes([0x0B]) + struct.pack("<Q", 99) + traps + loop,
    }


def migration_frame(kind, payload):
    """A migration stream frame: type, CRC-32 of the payload, length, payload."""
    return struct.pack("<IIQ", kind, zlib.crc32(payload), len(payload)) + payload


def state_field(b):
    """A StateWriter byte string: its 64-bit length, then the bytes."""
    return struct.pack("<Q", len(b)) + b


def slirp_stream(connection):
    """libslirp's state stream (version 4; src/host/net/slirp_state.hpp): with `connection`,
    the guest's connection to mmds=on's guest forward, 10.0.2.254:80, established, with socket
    buffers of 16 bytes; then the IP id and the 16 DHCP leases, the first in use."""
    out = b""
    if connection:
        # Addresses are a socket's s_addr as a little-endian host holds it, written big-endian.
        def address(ip, port):
            return struct.pack(">H", 2) + struct.pack("<IH", ip, port)

        def buffer(data):
            return struct.pack(">IIII", len(data), 16, len(data), 0) + data.ljust(16, b"\0")

        tcp = struct.pack(">8hHBH", 4, 0, 0, 14, 0, 0, 6, 0, 1460, 0, 0)
        tcp += struct.pack(">15I", *range(1000, 1015))
        tcp += struct.pack(">hhIhhHIBBh4B3I", 0, 0, 0, 0, 24, 2, 65535, 0, 0, 0, 0, 0, 0, 0,
                           0, 0, 0)
        out += bytes([42]) + struct.pack(">I", 0) + address(0x0A0002FE, 80)
        out += address(0x0A00020F, 40000) + bytes([0, 0, 6]) + struct.pack(">i", 0x84)
        out += buffer(b"") + buffer(b"HTTP/1.1 200 OK") + tcp
    out += bytes([0]) + struct.pack(">H", 7)
    out += struct.pack(">H", 1) + bytes([0x52, 0x54, 0, 0x12, 0x34, 0x56]) + bytes(8 * 15)
    return out


def slirp_state(connection):
    """A user network's saved state as SlirpBackend::save_state frames it."""
    return state_field(b"slirp/1") + struct.pack("<I", 4) + state_field(slirp_stream(connection))


def snapshot_seeds():
    """state_file, rebind_state_file (0 and 2: a whole state file) and machine_state (1: its
    `machine` section) are a real snapshot of `vessel run --memory 16M --firmware builtin
    --kernel build/tests/cli/guests/spin.elf`, and state_file_user_net one of the same with
    --net user,mmds=on (each the target's selector byte, then the file; made by hand, see
    docs/snapshot.md). From that one: its `net` section with a connection to the metadata
    service (CRC redone), and user network states alone (3: SlirpBackend::load_state)."""
    with open(os.path.join(HERE, "corpus", "snapshot", "state_file_user_net"), "rb") as f:
        state = bytearray(f.read()[1:])
    pos = 16
    for _ in range(struct.unpack_from("<I", state, 12)[0]):
        name = bytes(state[pos:pos + 16]).rstrip(b"\0")
        length = struct.unpack_from("<Q", state, pos + 16)[0]
        if name == b"net":
            net = state_field(b"net/1") + struct.pack("<I", 1) + state_field(slirp_state(True))
            header = state[pos:pos + 16] + struct.pack("<QII", len(net), zlib.crc32(net), 0)
            state[pos:pos + 32 + length] = header + net
            break
        pos += 32 + length
    return {
        "snapshot/state_file_mmds_connection": b"\0" + bytes(state),
        "snapshot/slirp_state": b"\3" + slirp_state(False),
        "snapshot/slirp_connection": b"\3" + slirp_state(True),
    }


def migration_seeds():
    """Streams as a destination reads them (vmm/migration/stream.hpp), built around the
    snapshot corpus's state file: its configuration is the HELLO's, its bytes the STATE."""
    with open(os.path.join(HERE, "corpus", "snapshot", "state_file"), "rb") as f:
        state = f.read()[1:]  # the snapshot target's selector byte
    # The header section's payload: "header/1", the Vessel version, then the configuration.
    header = state[16 + 32:16 + 32 + struct.unpack_from("<Q", state, 16 + 16)[0]]
    tag_len = struct.unpack_from("<Q", header, 0)[0]
    ver_len = struct.unpack_from("<Q", header, 8 + tag_len)[0]
    version = header[16 + tag_len:16 + tag_len + ver_len]
    config = header[16 + tag_len + ver_len:]
    ram = 16 << 20  # the corpus state's guest

    def field(b):
        return struct.pack("<Q", len(b)) + b

    hello = field(b"hello/1") + field(version) + field(b"") + config
    preamble = b"VESSELMG" + struct.pack("<II", 1, 4)  # stream 1, snapshot format 4
    page = bytes(range(256)) * 16
    pages = migration_frame(2, struct.pack("<QQ", 1, 2) + page + page)
    zero = migration_frame(3, struct.pack("<QQ", 0, ram // 4096))
    return {
        "migration/whole": preamble + migration_frame(1, hello) + pages + zero +
                           migration_frame(4, state),
        "migration/hello_only": preamble + migration_frame(1, hello),
        "migration/pages_first": preamble + pages,
        "migration/bad_crc": preamble + migration_frame(1, hello)[:-1] + b"\xff",
    }


def main():
    files = {
        "elf/two_segments.elf": elf([(RAM, RAM, b"\x13\x00\x00\x00" * 4, 0x40),
                                     (RAM + 0x1000, RAM + 0x1000, b"\0" * 16, 16)],
                                    entry=RAM, symbols=[("tohost", RAM + 0x1000),
                                                        ("fromhost", RAM + 0x1008)]),
        "elf/virtual_entry.elf": elf([(0xFFFFFFFF80000000, RAM + 0x2000, b"\x6f\x00\x00\x00",
                                       0x100)], entry=0xFFFFFFFF80000000),
        "elf/no_symbols.elf": elf([(RAM, RAM, b"\x73\x00\x10\x00", 4)]),
        "elf/Image": image(0x80000, 0x10000, 256),
        "elf/Image_old_magic": image(0x80000, 0x10000, 256, old_magic=True),
        "elf/Image.gz": gzip.compress(image(0x80000, 0x10000, 2048), mtime=0),
        "elf/raw.gz": gzip.compress(b"raw kernel bytes" * 16, mtime=0),
        "elf/raw.bin": bytes(range(256)),
        "htif/exit_pass": htif([(0, 1)]),
        "htif/exit_fail": htif([(0, 3 << 1 | 1)]),
        "htif/putchar": htif([(0, cmd(1, 1, ord(c))) for c in "hi\n"]),
        "htif/getchar": htif([(0, cmd(1, 0, 0))]),
        "htif/syscall_write": htif(
            [(0, cmd(0, 0, 0x100)), (1, cmd(0, 0, 0x100)), (1, cmd(0, 0, 0x140))],
            ram_init={0x100: struct.pack("<QQQQ", 64, 1, RAM + 0x200, 5),
                      0x140: struct.pack("<QQ", 93, 0),
                      0x200: b"hello"}),
        "htif/syscall_bad_pointer": htif(
            [(1, cmd(0, 0, 0x100)), (1, cmd(0, 0, 0x180))],
            ram_init={0x100: struct.pack("<QQQQ", 64, 1, 0x10, 1 << 40),
                      0x180: struct.pack("<QQQQ", 1234, 0, 0, 0)}),
        "htif/fromhost_busy": htif([(0, cmd(0, 0, 0x100))] * 4,
                                   ram_init={0x100: struct.pack("<QQQQ", 64, 2, RAM, 16)}),
        "virtqueue/one_chain": virtqueue(3, [[(0, RAM + 0x2800, 64, 1, 1),
                                             (1, RAM + 0x2900, 128, 2, 0)]]),
        "virtqueue/several_chains": virtqueue(
            4, [[(i, RAM + 0x2800 + 0x40 * i, 0x40, 2, 0)] for i in range(6)], event_idx=True,
            used_event=2),
        "virtqueue/indirect": virtqueue(
            3, [[(2, RAM + 0x2400, 48, 4, 0)]], indirect=True,
            tables=[(0x2400, [(RAM + 0x2800, 16, 1, 1), (RAM + 0x2900, 32, 3, 2),
                              (RAM + 0x2a00, 64, 2, 0)])]),
        "virtqueue/rom_buffer": virtqueue(2, [[(0, 0x1000, 256, 1, 1),
                                               (1, RAM + 0x2800, 8, 2, 0)]]),
        "virtqueue/loop": virtqueue(3, [[(0, RAM + 0x2800, 8, 1, 1), (1, RAM + 0x2800, 8, 1, 0)]]),
        "virtqueue/no_interrupt": virtqueue(0, [[(0, RAM + 0x2800, 8, 2, 0)]], avail_flags=1,
                                            ops=[vq_op(0), vq_op(4), vq_op(6, 1), vq_op(0),
                                                 vq_op(4), vq_op(7), vq_op(0)]),
        "virtqueue/avail_jump": virtqueue(3, [[(0, RAM + 0x2800, 8, 0, 0)]], avail_idx=9),
        "sbi/base": sbi([(0, "base", fid, [0]) for fid in range(8)] +
                        [(0, "base", 3, [eid]) for eid in (0x10, 0x735049, 0x4442434E, 0x504D55)] +
                        [(SBI_ECALL, "base", 0, []), (SBI_ECALL, "base", 3, [0x52464E43])]),
        "sbi/dbcn": sbi([(0x42, "dbcn", 0, [16, 0x100, 0]), (0x42, "dbcn", 1, [8, 0x200, 0]),
                         (0x42 | SBI_ECALL, "dbcn", 0, [4, 0x3ffe, 0]), (0, "dbcn", 0, [4, 0x1000, 0]),
                         (0x02, "dbcn", 1, [1 << 20, 0, 0]), (0x42, "dbcn", 0, [4, 0x100, 1]),
                         (0, "dbcn", 2, [ord("x")]), (0, "dbcn", 3, [])], console=b"hi there"),
        "sbi/ipi_rfence": sbi([(0, "ipi", 0, [1, 0]), (0, "ipi", 0, [0, -1]), (0, "ipi", 0, [2, 0]),
                               (0, "ipi", 0, [4, -2]), (SBI_ECALL, "ipi", 0, [1, 0])] +
                              [(0, "rfence", fid, [1, 0, 0x80000000, 0x2000]) for fid in range(8)] +
                              [(0, "rfence", 1, [1, 0, -0x1000, 0xfff]),
                               (0, "rfence", 1, [1, 0, -0x1000, 0x2000]),
                               (0, "rfence", 1, [0, -1, 0, -1])]),
        "sbi/hsm_srst": sbi([(0, "hsm", fid, [0, 0x80000000, 0]) for fid in range(5)] +
                            [(0, "hsm", 3, [t, 0x80000000, 0]) for t in
                             (0x80000000, 1, 0x10000000, 0x90000000, 1 << 32)] +
                            [(0, "hsm", 2, [1]), (SBI_ECALL, "hsm", 3, [0, 0, 0])] +
                            [(0, "srst", 0, [t, r]) for t, r in
                             ((0, 0), (1, 0), (2, 1), (3, 0), (0, 2), (0, 0xF0000000))]),
        "sbi/legacy": sbi([(0, "putchar", 0, [ord("A")]), (SBI_ECALL, "getchar", 0, []),
                           (0, "getchar", 0, []), (0, "set_timer", 0, [0]),
                           (0, "time", 0, [-1]), (SBI_ECALL, "clear_ipi", 0, []),
                           (SBI_ECALL, "legacy_0f", 0, []), (0, "shutdown", 0, [])],
                          console=b"q"),
        "sbi/raw": sbi([(0, "raw", 0, [(0x10 << 32) | 0]), (SBI_ECALL, "raw", 0, [0xdeadbeef << 32]),
                        (0, "raw", 0, [(0x4442434E << 32) | 2, ord("z")]),
                        (0, "pmu", 0, [])]),
    }
    files.update(virtio_blk_seeds())
    files.update(virtio_net_seeds())
    files.update(firecracker_api_seeds())
    files.update(jit_seeds())
    files.update(snapshot_seeds())
    files.update(migration_seeds())
    for name, data in files.items():
        path = os.path.join(HERE, "corpus", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
