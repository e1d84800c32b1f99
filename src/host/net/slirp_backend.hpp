// User-mode networking through libslirp (4.7 API): the guest sits on a private 10.0.2.0/24
// behind a NAT made of ordinary host sockets, so it needs no privileges and no host setup.
//   10.0.2.2   the gateway; connections to it reach the host's loopback (not with loopback=off)
//   10.0.2.3   DNS, forwarded to the host's resolver
//   10.0.2.15  the first address handed out by slirp's DHCP server
// Host ports can be forwarded into the guest (HostForward, see net_option.hpp). restrict=on
// (slirp's `restricted`) drops every connection the guest opens; loopback=off (slirp's
// `disable_host_loopback`) refuses those to 10.0.2.2 (the guest gets ICMP unreachable).
// mmds=on: 169.254.169.254:80 is the VM's metadata service (mmds.hpp), through slirp's guest
// forwarding at 10.0.2.254 and an address rewrite of the frames either way.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "base/event_loop.hpp"
#include "base/result.hpp"
#include "host/net/mmds.hpp"
#include "host/net/net_backend.hpp"
#include "host/net/net_option.hpp"

namespace vessel {

class SlirpBackend final : public NetBackend {
 public:
  // Creates the stack for a user spec (its forwarded ports, restrict, loopback) and binds every
  // forwarded port, so that a port already in use is an error at startup ("hostfwd
  // tcp:127.0.0.1:8080: port in use"). May be called from any thread; nothing runs on the loop
  // until start().
  // With `mmds` (spec.mmds), the guest reaches that metadata store at 169.254.169.254:80.
  static Result<std::unique_ptr<SlirpBackend>> create(EventLoop& loop, const NetSpec& spec,
                                                      std::shared_ptr<net::MmdsStore> mmds = {});
  // Stops using the loop: on the loop thread directly, from another thread through a posted
  // task that this waits for (the loop must then be running, or never have run this backend).
  ~SlirpBackend() override;
  SlirpBackend(const SlirpBackend&) = delete;
  SlirpBackend& operator=(const SlirpBackend&) = delete;

  std::string_view name() const override { return "user"; }
  void start(Receiver receiver) override;
  void send(std::span<const uint8_t> frame) override;
  // libslirp's own state (slirp_state_save; slirp_state.hpp): the IP id counter, the DHCP
  // leases and mmds=on's connection to the metadata service, framed with its state version.
  std::vector<uint8_t> save_state() override;
  // Checked (slirp_state.hpp) and loaded on the loop thread (posted there, and waited for,
  // once the backend has started). Forwarded ports and other connections are this process's
  // own and stay as they are.
  Result<void> load_state(std::span<const uint8_t> state) override;

  struct Impl;  // public so that the C callbacks in the .cpp can name it

 private:
  explicit SlirpBackend(EventLoop& loop);
  EventLoop& loop_;
  std::shared_ptr<Impl> impl_;  // shared with the tasks and callbacks given to the loop
  std::atomic<bool> started_{false};
};

}  // namespace vessel
