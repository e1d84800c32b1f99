// The comma-separated option values of the command line (--disk PATH,readonly,...),
// split as QEMU splits its own: ",," stands for a comma inside a field, so any path can be given.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vessel {

// "a,,b,c=d" -> {"a,b", "c=d"}. Always at least one field (the empty text gives {""}).
std::vector<std::string> split_option_fields(std::string_view text);

}  // namespace vessel
