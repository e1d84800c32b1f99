#!/bin/sh
# bench/smp.py's job in the Debian guest: JOBS sha256sum runs over one MIB MiB file at once,
# timed with /proc/uptime (10 ms steps; the job takes seconds). The file lives in the
# initramfs's RAM-backed root, so the job is CPU-bound. Prints one line:
#   vessel-smp-bench: jobs=J mib=M harts=H start=UPTIME end=UPTIME end
jobs=${1:-2}
mib=${2:-32}
dd if=/dev/zero of=/tmp/smp-blob bs=1M count="$mib" 2>/dev/null || exit 1
start=$(cut -d' ' -f1 /proc/uptime)
i=0
while [ "$i" -lt "$jobs" ]; do
	sha256sum /tmp/smp-blob >/dev/null &
	i=$((i + 1))
done
wait
end=$(cut -d' ' -f1 /proc/uptime)
harts=$(grep -c '^processor' /proc/cpuinfo)
echo "vessel-smp-bench: jobs=$jobs mib=$mib harts=$harts start=$start end=$end end"
