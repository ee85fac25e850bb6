// facet::Error and the checks that throw it.
//
// Library code reports what the caller can fix by throwing facet::Error. Its message is written
// for the person at the terminal: what failed, on which input, and what to do about it, e.g.
//   "cannot read 'photos/IMG_01.jpg': not a JPEG or PNG file (convert it, or remove it)".
// The CLI catches Error at main(), prints the message on one line and exits with status 1.
#pragma once

#if !defined(__CUDACC__)
#include <fmt/format.h>
#endif

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace facet {

// Where in facet's sources something happened. (std::source_location would do, but clang 14's
// tools cannot parse libstdc++ 12's version of it, so clang-tidy could not read facet.)
struct SourceLocation {
  const char* file = "";
  int line = 0;

  static constexpr SourceLocation Current(const char* file = __builtin_FILE(),
                                          int line = __builtin_LINE()) {
    return {file, line};
  }
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, SourceLocation where = SourceLocation::Current());

  // Where the error was raised in facet's sources, for logs and bug reports (not for users).
  const SourceLocation& where() const noexcept { return where_; }

 private:
  SourceLocation where_;
};

namespace detail {

// Out of line so that the throwing path does not bloat every call site.
[[noreturn]] void ThrowError(const std::string& message, SourceLocation where);

#if defined(__CUDACC__)
// fmt 9 does not compile under nvcc in C++20 mode, so .cu files (which should only launch
// kernels; shape checks belong in the .cpp dispatcher) pass one ready-made message string.
[[noreturn]] inline void ThrowFormatted(SourceLocation where, const std::string& message) {
  ThrowError(message, where);
}
#else
template <typename... Args>
[[noreturn]] void ThrowFormatted(SourceLocation where, fmt::format_string<Args...> format,
                                 Args&&... args) {
  ThrowError(fmt::format(format, std::forward<Args>(args)...), where);
}
#endif

}  // namespace detail
}  // namespace facet

// FACET_THROW("cannot open '{}': {}", path, reason) throws facet::Error with the formatted text.
#define FACET_THROW(...) \
  ::facet::detail::ThrowFormatted(::facet::SourceLocation{__FILE__, __LINE__}, __VA_ARGS__)

// FACET_CHECK(n > 0, "--views must be positive (got {})", n) throws facet::Error when the
// condition is false. The arguments are evaluated only on failure.
#define FACET_CHECK(cond, ...)                                                                   \
  do {                                                                                           \
    if (!(cond)) [[unlikely]] {                                                                  \
      ::facet::detail::ThrowFormatted(::facet::SourceLocation{__FILE__, __LINE__}, __VA_ARGS__); \
    }                                                                                            \
  } while (false)
