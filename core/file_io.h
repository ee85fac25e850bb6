// Whole-file reads and crash-safe writes.
//
// Every output facet produces goes through WriteFileAtomically: the bytes go to `path.tmp`, are
// flushed to disk (fsync), and only then renamed over `path`. An interrupted or failed write
// leaves the previous `path` untouched, never a truncated file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace facet {

// Reads the whole file; throws facet::Error naming the file when it cannot be opened or read.
// Refuses files larger than `max_bytes` (guards against reading a device or a huge wrong file).
std::vector<std::uint8_t> ReadFile(const std::filesystem::path& path,
                                   std::uint64_t max_bytes = std::uint64_t{1} << 34);

// The file name's extension in ASCII lower case, with its dot (".jpg"); empty when there is none.
std::string LowercaseExtension(const std::filesystem::path& path);

// Writes `bytes` to `path` atomically (see above). Creates no folders: the parent must exist.
void WriteFileAtomically(const std::filesystem::path& path, std::span<const std::uint8_t> bytes);
void WriteFileAtomically(const std::filesystem::path& path, std::string_view text);

// Streams into `path.tmp` through `writer`, then commits. If `writer` throws, the temporary file
// is removed, `path` is left as it was, and the exception propagates unchanged.
void WriteFileAtomically(const std::filesystem::path& path,
                         const std::function<void(std::ostream&)>& writer);

}  // namespace facet
