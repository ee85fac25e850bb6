// TypedId<Tag>: an integer id that does not mix with ids of other kinds, so that passing a point id
// where an image id is expected fails to compile. Modules declare their own:
//   using ImageId = TypedId<struct ImageIdTag>;
// The default-constructed id is invalid (all bits set), as COLMAP's kInvalid*Id.
#pragma once

#include <fmt/format.h>

#include <compare>
#include <cstdint>
#include <functional>
#include <limits>

namespace facet {

template <typename Tag, typename T = std::uint32_t>
struct TypedId {
  using ValueType = T;
  static constexpr T kInvalidValue = std::numeric_limits<T>::max();

  constexpr TypedId() = default;
  constexpr explicit TypedId(T v) : value(v) {}

  static constexpr TypedId Invalid() { return TypedId(); }
  constexpr bool IsValid() const { return value != kInvalidValue; }

  constexpr auto operator<=>(const TypedId&) const = default;

  T value = kInvalidValue;
};

}  // namespace facet

template <typename Tag, typename T>
struct std::hash<facet::TypedId<Tag, T>> {
  std::size_t operator()(const facet::TypedId<Tag, T>& id) const noexcept {
    return std::hash<T>{}(id.value);
  }
};

template <typename Tag, typename T>
struct fmt::formatter<facet::TypedId<Tag, T>> : fmt::formatter<T> {
  template <typename FormatContext>
  auto format(const facet::TypedId<Tag, T>& id, FormatContext& ctx) const {
    return fmt::formatter<T>::format(id.value, ctx);
  }
};
