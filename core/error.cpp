#include "core/error.h"

namespace facet {

Error::Error(const std::string& message, SourceLocation where)
    : std::runtime_error(message), where_(where) {}

namespace detail {

void ThrowError(const std::string& message, SourceLocation where) { throw Error(message, where); }

}  // namespace detail
}  // namespace facet
