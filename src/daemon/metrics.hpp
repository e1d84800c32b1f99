// GET /metrics: the VMs' figures in Prometheus's text format (version 0.0.4).
#pragma once

#include <string>
#include <vector>

#include "daemon/manager.hpp"

namespace vessel::daemon {

std::string render_metrics(const std::vector<VmFigures>& vms);

}  // namespace vessel::daemon
