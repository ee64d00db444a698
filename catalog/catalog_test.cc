#include "catalog/catalog.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "catalog/actions.h"

namespace amata::catalog {
namespace {

TEST(Catalog, EveryKindRoundTripsThroughItsName) {
  for (Kind k : all_kinds()) {
    auto back = kind_from_name(kind_name(k));
    ASSERT_TRUE(back.has_value()) << kind_name(k);
    EXPECT_EQ(*back, k);
    EXPECT_FALSE(attributes(k).empty()) << kind_name(k);
  }
  EXPECT_FALSE(kind_from_name("sevice").has_value());
}

TEST(Catalog, AttributeNamesAreUniquePerKind) {
  for (Kind k : all_kinds()) {
    std::set<std::string_view> seen;
    for (const auto& a : attributes(k)) {
      EXPECT_TRUE(seen.insert(a.name).second) << kind_name(k) << "." << a.name;
      EXPECT_EQ(find_attribute(k, a.name), &a);
    }
  }
}

TEST(Catalog, UnitsNormaliseToBaseUnits) {
  ASSERT_NE(find_unit("min"), nullptr);
  EXPECT_DOUBLE_EQ(find_unit("min")->scale, 60);
  EXPECT_EQ(find_unit("GiB")->dimension, Dimension::kBytes);
  EXPECT_DOUBLE_EQ(find_unit("KiB")->scale, 1024);
  EXPECT_DOUBLE_EQ(find_unit("KB")->scale, 1000);
  EXPECT_EQ(find_unit("ms")->dimension, Dimension::kDuration);
  EXPECT_EQ(find_unit("parsec"), nullptr);
}

TEST(Catalog, EnumOrdinalsFollowTheKernel) {
  // IF_OPER_UP is 6, IF_OPER_DOWN is 2 in <linux/if.h>.
  EXPECT_EQ(enum_ordinal(EnumType::kOperState, "up"), 6);
  EXPECT_EQ(enum_ordinal(EnumType::kOperState, "down"), 2);
  EXPECT_EQ(enum_ordinal(EnumType::kCheckStatus, "critical"), 2);
  EXPECT_FALSE(enum_ordinal(EnumType::kLinkState, "sideways").has_value());
}

TEST(Catalog, TypeNamesReadWellInDiagnostics) {
  EXPECT_EQ(type_name(Type::number(Dimension::kBytes)), "bytes");
  EXPECT_EQ(type_name(Type::boolean()), "bool");
  EXPECT_EQ(type_name(Type::enumeration(EnumType::kLinkState)), "link state");
}

TEST(Catalog, ActionsAreNamedByTheirKeyword) {
  // The syntax tree, the checked policy, the IR dump, replay traces and amatad's action log
  // all print these words.
  EXPECT_EQ(action_kind_name(ActionKind::kRestart), "restart");
  EXPECT_EQ(action_kind_name(ActionKind::kUnmonitor), "unmonitor");
  EXPECT_EQ(action_kind_name(ActionKind::kFailover), "failover");
  std::set<std::string_view> seen;
  for (int k = 0; k <= static_cast<int>(ActionKind::kFailover); ++k) {
    EXPECT_TRUE(seen.insert(action_kind_name(static_cast<ActionKind>(k))).second) << k;
  }
}

}  // namespace
}  // namespace amata::catalog
