#include "base/option_fields.hpp"

#include <gtest/gtest.h>

namespace vessel {
namespace {

using Fields = std::vector<std::string>;

TEST(OptionFields, SplitsAtSingleCommas) {
  EXPECT_EQ(split_option_fields(""), Fields{""});
  EXPECT_EQ(split_option_fields("disk.img"), Fields{"disk.img"});
  EXPECT_EQ(split_option_fields("disk.img,readonly,overlay=o"),
            (Fields{"disk.img", "readonly", "overlay=o"}));
  EXPECT_EQ(split_option_fields("a,,b,c"), (Fields{"a,b", "c"}));
  EXPECT_EQ(split_option_fields("a,,,b"), (Fields{"a,", "b"}));
  EXPECT_EQ(split_option_fields("a,"), (Fields{"a", ""}));
  EXPECT_EQ(split_option_fields(",,"), Fields{","});
  EXPECT_EQ(split_option_fields(",a"), (Fields{"", "a"}));
}

}  // namespace
}  // namespace vessel
