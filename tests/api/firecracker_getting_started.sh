#!/bin/bash
# Firecracker's getting-started sequence, its curl calls as the document gives them, against
# `vessel run --api-sock`:
#
#     firecracker_getting_started.sh VESSEL GUEST_DIR
#
# GUEST_DIR holds Image, initrd-modules.cpio.gz and rootfs.ext4 (guests/debian/build.sh --disk).
# What the document leaves to its reader is set here: the kernel is Debian's riscv64 Image (its
# drivers are modules, so `vessel run --initrd` gives the initrd a Firecracker client does not
# name), the root file system a copy of the Debian guest's, the tap device one this script
# creates (root, as Firecracker's own setup is). The calls themselves are unchanged: a `curl`
# function around the real one checks each answer's status (204) and keeps its body.
# Then: the guest reaches userspace on the console, the log file has Vessel's lines, and
# FlushMetrics wrote a metrics line whose counters are the VM's (block bytes read, uart bytes).
set -euo pipefail

VESSEL=$(realpath "$1")
GUEST=$(realpath "$2")
WORK=$(mktemp -d /tmp/vessel-fc-start-XXXXXX)
TAP_DEV="fcgs$$"
VMM_PID=""
cleanup() {
  if [ -n "$VMM_PID" ] && kill -0 "$VMM_PID" 2>/dev/null; then kill -9 "$VMM_PID"; fi
  ip link del "$TAP_DEV" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "firecracker_getting_started: FAILED: $*" >&2
  echo "----- VMM output (tail) -----" >&2
  tail -c 3000 "$WORK/console.log" >&2 || true
  exit 1
}

# Each call must answer as Firecracker does to a good request: 204, no body.
CALLS=0
curl() {
  local status
  status=$(command curl -sS -o "$WORK/reply" -w '%{http_code}' "$@") || fail "curl $*: failed"
  CALLS=$((CALLS + 1))
  [ "$status" = 204 ] || fail "curl $*: status $status, body $(cat "$WORK/reply")"
}
sudo() { "$@"; }  # the document's calls run under sudo; this script already is root

cd "$WORK"
cp "$GUEST/Image" ./vmlinux-6.1
cp "$GUEST/rootfs.ext4" ./ubuntu-22.04.ext4

API_SOCKET="/tmp/firecracker.socket.$$"
"$VESSEL" run --api-sock "${API_SOCKET}" --initrd "$GUEST/initrd-modules.cpio.gz" \
  </dev/null >"$WORK/console.log" 2>&1 &
VMM_PID=$!
for _ in $(seq 100); do [ -S "$API_SOCKET" ] && break; sleep 0.1; done
[ -S "$API_SOCKET" ] || fail "$API_SOCKET did not appear"

# ---- Firecracker's docs/getting-started.md, "Starting Firecracker" and after ----
TAP_IP="172.16.0.1"
MASK_SHORT="/30"

# Setup network interface
sudo ip link del "$TAP_DEV" 2> /dev/null || true
sudo ip tuntap add dev "$TAP_DEV" mode tap
sudo ip addr add "${TAP_IP}${MASK_SHORT}" dev "$TAP_DEV"
sudo ip link set dev "$TAP_DEV" up

LOGFILE="./firecracker.log"

# Create log file
touch $LOGFILE

# Set log file
sudo curl -X PUT --unix-socket "${API_SOCKET}" \
    --data "{
        \"log_path\": \"${LOGFILE}\",
        \"level\": \"Debug\",
        \"show_level\": true,
        \"show_log_origin\": true
    }" \
    "http://localhost/logger"

METRICSFILE="./firecracker-metrics.json"
touch $METRICSFILE

# Set metrics file
sudo curl -X PUT --unix-socket "${API_SOCKET}" \
    --data "{
        \"metrics_path\": \"${METRICSFILE}\"
    }" \
    "http://localhost/metrics"

KERNEL="./$(ls vmlinux* | tail -1)"
KERNEL_BOOT_ARGS="console=ttyS0 reboot=k panic=1 pci=off"

ARCH=$(uname -m)

if [ ${ARCH} = "aarch64" ]; then
    KERNEL_BOOT_ARGS="keep_bootcon ${KERNEL_BOOT_ARGS}"
fi

# Set boot source
sudo curl -X PUT --unix-socket "${API_SOCKET}" \
    --data "{
        \"kernel_image_path\": \"${KERNEL}\",
        \"boot_args\": \"${KERNEL_BOOT_ARGS}\"
    }" \
    "http://localhost/boot-source"

ROOTFS="./ubuntu-22.04.ext4"

# Set rootfs
sudo curl -X PUT --unix-socket "${API_SOCKET}" \
    --data "{
        \"drive_id\": \"rootfs\",
        \"path_on_host\": \"${ROOTFS}\",
        \"is_root_device\": true,
        \"is_read_only\": false
    }" \
    "http://localhost/drives/rootfs"

# The IP address of a guest is derived from its MAC address with
# `fcnet-setup.sh`, this has been pre-configured in the guest rootfs. It is
# important that `TAP_IP` and `FC_MAC` match this.
FC_MAC="06:00:AC:10:00:02"

# Set network interface
sudo curl -X PUT --unix-socket "${API_SOCKET}" \
    --data "{
        \"iface_id\": \"net1\",
        \"guest_mac\": \"$FC_MAC\",
        \"host_dev_name\": \"$TAP_DEV\"
    }" \
    "http://localhost/network-interfaces/net1"

# The machine configuration of the document's "Configuring the microVM" section.
curl --unix-socket "${API_SOCKET}" -i  \
    -X PUT 'http://localhost/machine-config' \
    -H 'Accept: application/json'           \
    -H 'Content-Type: application/json'      \
    -d '{
        "vcpu_count": 2,
        "mem_size_mib": 1024
    }'

# API requests are handled asynchronously, it is important the configuration is
# set, before `InstanceStart`.
sleep 0.015s

# Start microVM
sudo curl -X PUT --unix-socket "${API_SOCKET}" \
    --data "{
        \"action_type\": \"InstanceStart\"
    }" \
    "http://localhost/actions"
# ---- end of the document's calls ----

for _ in $(seq 600); do
  grep -q "vessel-guest: userspace up" "$WORK/console.log" && break
  kill -0 "$VMM_PID" 2>/dev/null || fail "the VMM exited"
  sleep 0.2
done
grep -q "vessel-guest: userspace up" "$WORK/console.log" || fail "the guest did not reach userspace in 120 s"
grep -q "Linux version" "$WORK/console.log" || fail "no kernel banner on ttyS0"

sudo curl -X PUT --unix-socket "${API_SOCKET}" \
    --data "{
        \"action_type\": \"FlushMetrics\"
    }" \
    "http://localhost/actions"

grep -q '\[anonymous-instance:api:INFO:vmm\] Running vessel v' "$LOGFILE" || fail "log: no first line: $(cat "$LOGFILE")"
grep -q ':INFO:api_server::request\] The API server received a Put request on "/actions".' "$LOGFILE" \
  || fail "log: no request line: $(cat "$LOGFILE")"
grep -q 'The microVM started' "$LOGFILE" || fail "log: no start line"
python3 - "$METRICSFILE" <<'PY' || fail "metrics: $(cat "$METRICSFILE")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) == 1, f"{len(lines)} lines"
m = lines[0]
assert m["put_api_requests"]["actions_count"] == 1, m["put_api_requests"]
assert m["put_api_requests"]["drive_count"] == 1 and m["put_api_requests"]["network_count"] == 1
assert m["block"]["read_bytes"] > 1000000, m["block"]
assert m["block"]["read_count"] > 10, m["block"]
assert m["uart"]["write_count"] > 1000, m["uart"]
assert m["vcpu"]["exit_mmio_write"] > 0, m["vcpu"]
assert m["utc_timestamp_ms"] > 1.6e12
PY

curl -X PUT --unix-socket "${API_SOCKET}" --data '{"action_type": "Shutdown"}' "http://localhost/actions"
for _ in $(seq 300); do kill -0 "$VMM_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$VMM_PID" 2>/dev/null; then fail "the VMM still runs 30 s after Shutdown"; fi
wait "$VMM_PID" || fail "the VMM exited with status $?"
VMM_PID=""
grep -q 'The microVM ended (exit status 0)' "$LOGFILE" || fail "log: no end line"
echo "firecracker_getting_started: $CALLS calls answered 204, the guest booted, log and metrics written"
