#include "host/net/net_option.hpp"

#include <arpa/inet.h>
#include <fmt/core.h>
#include <net/if.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string_view>

#include "host/net/slirp_backend.hpp"
#include "host/net/tap_backend.hpp"

namespace vessel {

std::string format_ipv4(uint32_t addr) {
  return fmt::format("{}.{}.{}.{}", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff,
                     addr & 0xff);
}

std::optional<uint32_t> parse_ipv4(std::string_view s) {
  const std::string text(s);
  in_addr a{};
  if (inet_pton(AF_INET, text.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

namespace {

constexpr std::string_view kRuleForm =
    "expected [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT";

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (;;) {
    const size_t at = s.find(sep);
    parts.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return parts;
    s.remove_prefix(at + 1);
  }
}

// Decimal digits only; nullopt if malformed, 0 or > 65535 reported by the caller as range.
std::optional<uint32_t> parse_number(std::string_view s) {
  if (s.empty() || s.size() > 9 ||
      !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  uint32_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace

Result<HostForward> parse_hostfwd(std::string_view rule) {
  const auto malformed = [&] {
    return make_error(fmt::format("malformed hostfwd '{}' ({})", rule, kRuleForm));
  };
  const size_t dash = rule.find('-');
  if (dash == std::string_view::npos) return malformed();
  const auto host = split(rule.substr(0, dash), ':');
  const auto guest = split(rule.substr(dash + 1), ':');
  if (host.size() != 3 || guest.size() != 2) return malformed();

  HostForward fwd;
  if (host[0] == "udp") {
    fwd.protocol = HostForward::Protocol::kUdp;
  } else if (host[0] != "tcp" && !host[0].empty()) {
    return make_error(
        fmt::format("hostfwd '{}': unknown protocol '{}' (tcp or udp)", rule, host[0]));
  }

  fwd.host_addr = 0x7f000001;  // 127.0.0.1
  if (!host[1].empty()) {
    const auto addr = parse_ipv4(host[1]);
    if (!addr) {
      return make_error(fmt::format("hostfwd '{}': bad host address '{}'", rule, host[1]));
    }
    fwd.host_addr = *addr;
  }
  if (!guest[0].empty()) {
    const auto addr = parse_ipv4(guest[0]);
    // The guest side is slirp's virtual 10.0.2.0/24; the gateway (.2), DNS (.3), the network
    // and broadcast addresses are slirp's own.
    if (!addr || (*addr & 0xffffff00) != 0x0a000200 || (*addr & 0xff) <= 3 ||
        (*addr & 0xff) == 0xff) {
      return make_error(
          fmt::format("hostfwd '{}': guest address '{}' is not a guest address in 10.0.2.0/24",
                      rule, guest[0]));
    }
    fwd.guest_addr = *addr;
  }

  const auto port = [&](std::string_view text, const char* which, uint16_t& out) -> Result<void> {
    const auto v = parse_number(text);
    if (!v) return malformed();
    if (*v < 1 || *v > 65535) {
      return make_error(
          fmt::format("hostfwd '{}': {} port {} out of range (1-65535)", rule, which, text));
    }
    out = static_cast<uint16_t>(*v);
    return {};
  };
  TRY_VOID(port(host[2], "host", fwd.host_port));
  TRY_VOID(port(guest[1], "guest", fwd.guest_port));
  return fwd;
}

Result<MacAddress> parse_mac(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return make_error(fmt::format("mac '{}': {}", text, why));
  };
  const auto parts = split(text, ':');
  if (parts.size() != 6) return bad("expected six hex bytes like 52:54:00:12:34:56");
  MacAddress mac{};
  for (size_t i = 0; i < 6; ++i) {
    const auto p = parts[i];
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v, 16);
    if (p.size() != 2 || ec != std::errc() || end != p.data() + p.size()) {
      return bad("expected six hex bytes like 52:54:00:12:34:56");
    }
    mac[i] = static_cast<uint8_t>(v);
  }
  if ((mac[0] & 1) != 0) return bad("a multicast address cannot name one card");
  if (mac == MacAddress{}) return bad("the all-zero address cannot name a card");
  return mac;
}

namespace {

// QEMU's forms of a yes or a no.
Result<bool> parse_switch(std::string_view key, std::string_view value) {
  for (std::string_view yes : {"on", "yes", "y", "true"}) {
    if (value == yes) return true;
  }
  for (std::string_view no : {"off", "no", "n", "false"}) {
    if (value == no) return false;
  }
  return make_error(fmt::format("{} '{}': expected on or off", key, value));
}

// One KEY=VALUE item of --net, its key known to the backend.
Result<void> apply_item(NetSpec& spec, std::string_view key, std::string_view value,
                        std::vector<std::string_view>& given) {
  if (key == "hostfwd") {
    spec.hostfwd.push_back(TRY(parse_hostfwd(value)));
    return {};
  }
  if (std::find(given.begin(), given.end(), key) != given.end()) {
    if (key == "ifname") return make_error("tap interface named twice");
    return make_error(fmt::format("{} given twice", key));
  }
  given.push_back(key);
  if (key == "mac") {
    spec.mac = TRY(parse_mac(value));
  } else if (key == "ifname") {
    spec.ifname = std::string(value);
  } else if (key == "restrict") {
    spec.restricted = TRY(parse_switch(key, value));
  } else if (key == "mmds") {
    spec.mmds = TRY(parse_switch(key, value));
  } else {
    spec.host_loopback = TRY(parse_switch(key, value));
  }
  return {};
}

}  // namespace

Result<void> check_net_spec(const NetSpec& spec) {
  if (spec.kind == NetSpec::Kind::kTap) {
    const std::string_view name = spec.ifname;
    const bool valid = !name.empty() && name.size() < IFNAMSIZ && name != "." && name != ".." &&
                       std::none_of(name.begin(), name.end(), [](char c) {
                         return c == '/' || c == ':' || c == ' ' || c == ',' || c == '=' ||
                                std::iscntrl(static_cast<unsigned char>(c));
                       });
    if (!valid) {
      if (name.empty()) return make_error("tap needs an interface name (tap=IFNAME)");
      return make_error(fmt::format(
          "tap interface name '{}' is not valid (1-{} characters, no '/', ':', ',', '=' or "
          "spaces)",
          name, IFNAMSIZ - 1));
    }
    if (!spec.hostfwd.empty() || spec.restricted || !spec.host_loopback || spec.mmds) {
      return make_error("hostfwd, restrict, loopback and mmds are for a user network, not a tap");
    }
  } else if (!spec.ifname.empty()) {
    return make_error("an interface name is for a tap, not a user network");
  }
  for (size_t i = 0; i < spec.hostfwd.size(); ++i) {
    const HostForward& fwd = spec.hostfwd[i];
    if (fwd.host_port == 0 || fwd.guest_port == 0) {
      return make_error(fmt::format("hostfwd {}: port 0 out of range (1-65535)", fwd.name()));
    }
    for (size_t j = 0; j < i; ++j) {
      const HostForward& f = spec.hostfwd[j];
      if (f.protocol == fwd.protocol && f.host_addr == fwd.host_addr &&
          f.host_port == fwd.host_port) {
        return make_error(fmt::format("hostfwd {} given twice", fwd.name()));
      }
    }
  }
  if (spec.mac && ((*spec.mac)[0] & 1) != 0) {
    return make_error(
        fmt::format("mac '{}': a multicast address cannot name one card", format_mac(*spec.mac)));
  }
  if (spec.mac && *spec.mac == MacAddress{}) {
    return make_error("mac '00:00:00:00:00:00': the all-zero address cannot name a card");
  }
  return {};
}

MacAddress default_mac(unsigned index) {
  MacAddress mac{0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  mac[5] = static_cast<uint8_t>(mac[5] + index);
  return mac;
}

std::string format_mac(const MacAddress& mac) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", mac[0], mac[1], mac[2], mac[3],
                     mac[4], mac[5]);
}

std::string HostForward::rule() const {
  return fmt::format("{}:{}:{}-{}:{}", protocol == Protocol::kUdp ? "udp" : "tcp",
                     format_ipv4(host_addr), host_port,
                     guest_addr == 0 ? std::string() : format_ipv4(guest_addr), guest_port);
}

std::string HostForward::name() const {
  return fmt::format("{}:{}:{}", protocol == Protocol::kUdp ? "udp" : "tcp", format_ipv4(host_addr),
                     host_port);
}

namespace {

Result<NetSpec> parse_net_items(const std::string& text) {
  const auto items = split(text, ',');
  NetSpec spec;
  std::string_view backend = items[0];
  std::string_view backend_value;
  bool has_value = false;
  if (const size_t eq = backend.find('='); eq != std::string_view::npos) {
    backend_value = backend.substr(eq + 1);
    backend = backend.substr(0, eq);
    has_value = true;
  }
  if (backend == "user" && !has_value) {
    spec.kind = NetSpec::Kind::kUser;
  } else if (backend == "tap") {
    spec.kind = NetSpec::Kind::kTap;
    spec.ifname = std::string(backend_value);
  } else {
    return make_error(fmt::format("unknown backend '{}' (expected user or tap=IFNAME)", items[0]));
  }

  // The keys given so far, each allowed once but hostfwd; tap=IFNAME counts as ifname.
  std::vector<std::string_view> given;
  if (has_value) given.push_back("ifname");
  for (size_t i = 1; i < items.size(); ++i) {
    const std::string_view item = items[i];
    const size_t eq = item.find('=');
    const std::string_view key = item.substr(0, eq);
    const bool user = spec.kind == NetSpec::Kind::kUser;
    const bool known = key == "mac" || (user ? key == "hostfwd" || key == "restrict" ||
                                                   key == "loopback" || key == "mmds"
                                             : key == "ifname");
    if (!known) {
      return make_error(
          fmt::format("unknown key '{}' for {} (expected {})", key, backend,
                      user ? "hostfwd, restrict, loopback, mmds or mac" : "ifname or mac"));
    }
    if (eq == std::string_view::npos) {
      return make_error(fmt::format("'{}' needs a value ({}=...)", key, key));
    }
    TRY_VOID(apply_item(spec, key, item.substr(eq + 1), given));
  }
  TRY_VOID(check_net_spec(spec));
  return spec;
}

}  // namespace

Result<NetSpec> parse_net_option(const std::string& text) {
  auto spec = parse_net_items(text);
  if (!spec) return make_error("--net: " + spec.error().message);
  return spec;
}

Result<std::unique_ptr<NetBackend>> open_net_backend(const NetSpec& spec, EventLoop& loop,
                                                     std::shared_ptr<net::MmdsStore> mmds) {
  if (spec.kind == NetSpec::Kind::kTap) {
    std::unique_ptr<NetBackend> tap = TRY(TapBackend::open(spec.ifname, loop));
    return tap;
  }
  if (!spec.mmds) mmds = nullptr;
  std::unique_ptr<NetBackend> user = TRY(SlirpBackend::create(loop, spec, std::move(mmds)));
  return user;
}

}  // namespace vessel
