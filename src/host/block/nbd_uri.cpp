// Whether a --disk names an NBD export: built with or without libnbd (VESSEL_NBD), so that a
// build without it still recognises the URI and says why it cannot open it.
#include "host/block/nbd.hpp"

namespace vessel::block {

bool is_nbd_uri(std::string_view text) {
  const size_t end = text.find("://");
  if (end == std::string_view::npos) return false;
  const std::string_view scheme = text.substr(0, end);
  return scheme == "nbd" || scheme == "nbds" || scheme.starts_with("nbd+") ||
         scheme.starts_with("nbds+");
}

}  // namespace vessel::block
