// Disk image formats Vessel does not read, recognised by their magic so that such an image
// given as a raw disk is refused instead of handed to the guest as garbage (QEMU warns when it
// guesses raw; Vessel refuses unless the format is stated, --disk PATH,format=raw).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace vessel::block {

// The name of the format whose header `head` (the file's first bytes; 512 are enough) begins
// with: "qcow2", "qcow", "QED", "VMDK", "VHDX", "VHD", "VDI"; nullopt for anything else.
std::optional<std::string_view> detect_image_format(std::string_view head);

// Refuses the image at `fd` (read at offset 0, whatever its position) when it is in one of
// those formats, naming `path` and the format. `stated` is how the user says the bytes are meant
// as they are (",format=raw" on the command line).
Result<void> check_raw_image(int fd, const std::string& path, std::string_view stated);

}  // namespace vessel::block
