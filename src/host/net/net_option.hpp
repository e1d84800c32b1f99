// `--net` on the command line:
//   user[,hostfwd=RULE]...[,restrict=on|off][,loopback=on|off][,mac=MAC]
//                                      user-mode networking through libslirp
//   tap=IFNAME[,mac=MAC]               a host tap interface (also tap,ifname=IFNAME)
// RULE is [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT. HOSTADDR defaults to 127.0.0.1:
// unlike QEMU (any address), a forwarded port is reachable from this host only unless asked.
// GUESTADDR defaults to the address the guest gets by DHCP (10.0.2.15).
// restrict=on is QEMU's: the guest reaches nothing outside (not the host, not the network, not
// DNS); DHCP and the forwarded ports still work. loopback=off keeps 10.0.2.2 from leading to
// the host's 127.0.0.1, where services trust whoever connects (the daemon's default for its
// VMs); the rest of the network stays reachable. Both default to QEMU's behaviour: off, on.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/event_loop.hpp"
#include "base/result.hpp"
#include "host/net/net_backend.hpp"

namespace vessel {

namespace net {
class MmdsStore;
}  // namespace net

struct HostForward {
  enum class Protocol { kTcp, kUdp };
  Protocol protocol = Protocol::kTcp;
  uint32_t host_addr = 0;  // IPv4, host byte order
  uint16_t host_port = 0;
  uint32_t guest_addr = 0;  // IPv4, host byte order; 0 = the guest's DHCP address
  uint16_t guest_port = 0;

  // "tcp:127.0.0.1:8080": how errors name the rule.
  std::string name() const;
  // The whole rule as parse_hostfwd takes it ("tcp:127.0.0.1:8080-:80").
  std::string rule() const;
  bool operator==(const HostForward&) const = default;
};

struct NetSpec {
  enum class Kind { kUser, kTap };
  Kind kind = Kind::kUser;
  std::vector<HostForward> hostfwd;  // user only
  bool restricted = false;           // user only: restrict=on
  bool host_loopback = true;         // user only: loopback=off clears it
  bool mmds = false;                 // user only: mmds=on, the metadata service (mmds.hpp)
  std::string ifname;                // tap only
  std::optional<MacAddress> mac;     // none: the board picks default_mac(index)
  bool operator==(const NetSpec&) const = default;
};

// What a network's settings must agree on whatever they came from (--net, the API, the machine
// configuration's JSON): a valid tap name, the user-only settings only on a user network, each
// forwarded host port once, a MAC that can name one card. One line without a prefix.
Result<void> check_net_spec(const NetSpec& spec);

// One forwarding rule, [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT ("hostfwd 'RULE':
// host port 99999 out of range (1-65535)").
Result<HostForward> parse_hostfwd(std::string_view rule);
// Six hex bytes, 52:54:00:12:34:56, that can name one card.
Result<MacAddress> parse_mac(std::string_view text);

// IPv4 addresses in host order, as dotted quads (parse: inet_pton's strict form, no octal or
// short forms).
std::string format_ipv4(uint32_t addr);
std::optional<uint32_t> parse_ipv4(std::string_view s);

// One-line errors name the option and the problem ("--net: hostfwd 'tcp::99999-:80': host
// port 99999 out of range (1-65535)").
Result<NetSpec> parse_net_option(const std::string& text);

// The backend a spec names, ready to start(). Errors are one line: a forwarded port already in
// use is "hostfwd tcp:127.0.0.1:8080: port in use"; a tap that cannot be opened names it.
// `mmds` is the VM's metadata store, which a user network with mmds=on serves (required then).
Result<std::unique_ptr<NetBackend>> open_net_backend(
    const NetSpec& spec, EventLoop& loop, std::shared_ptr<net::MmdsStore> mmds = nullptr);

}  // namespace vessel
