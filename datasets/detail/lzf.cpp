#include "datasets/detail/lzf.h"

#include <algorithm>
#include <cstring>

namespace facet::datasets::detail {
namespace {

constexpr std::size_t kMaxLiteral = 32;
constexpr std::size_t kMaxDistance = 8192;  // 13 offset bits, plus one
constexpr std::size_t kMinMatch = 3;
constexpr std::size_t kMaxMatch = 264;  // 7 + 255 + 2
constexpr int kHashBits = 14;
constexpr std::size_t kLzfInitialCapacity = std::size_t{1} << 16;

void FlushLiterals(std::span<const std::uint8_t> data, std::size_t begin, std::size_t end,
                   std::vector<std::uint8_t>& out) {
  while (begin < end) {
    const std::size_t run = std::min(kMaxLiteral, end - begin);
    out.push_back(static_cast<std::uint8_t>(run - 1));
    out.insert(out.end(), data.begin() + static_cast<std::ptrdiff_t>(begin),
               data.begin() + static_cast<std::ptrdiff_t>(begin + run));
    begin += run;
  }
}

}  // namespace

std::optional<std::vector<std::uint8_t>> LzfDecompress(std::span<const std::uint8_t> compressed,
                                                       std::size_t size) {
  std::vector<std::uint8_t> out;
  // Room for `more` bytes: capacity grows with what the stream really produces (doubling, never
  // past `size`), not with what the caller was told to expect.
  auto make_room = [&](std::size_t more) {
    if (out.capacity() - out.size() >= more) return;
    out.reserve(std::min(size, std::max(out.size() + more, 2 * out.capacity())));
  };
  out.reserve(std::min(size, kLzfInitialCapacity));
  std::size_t ip = 0;
  const std::size_t n = compressed.size();
  while (ip < n) {
    const std::size_t control = compressed[ip++];
    const std::size_t op = out.size();
    if (control < kMaxLiteral) {  // literal run of control + 1 bytes
      const std::size_t run = control + 1;
      if (n - ip < run || size - op < run) return std::nullopt;
      make_room(run);
      out.insert(out.end(), compressed.begin() + static_cast<std::ptrdiff_t>(ip),
                 compressed.begin() + static_cast<std::ptrdiff_t>(ip + run));
      ip += run;
      continue;
    }
    std::size_t length = control >> 5;
    if (length == 7) {
      if (ip >= n) return std::nullopt;
      length += compressed[ip++];
    }
    if (ip >= n) return std::nullopt;
    const std::size_t distance = ((control & 0x1f) << 8 | compressed[ip++]) + 1;
    length += 2;
    if (distance > op || size - op < length) return std::nullopt;
    make_room(length);
    for (std::size_t k = 0; k < length; ++k) {
      const std::uint8_t byte = out[out.size() - distance];  // may overlap what this run wrote
      out.push_back(byte);
    }
  }
  if (out.size() != size) return std::nullopt;
  return out;
}

std::vector<std::uint8_t> LzfCompress(std::span<const std::uint8_t> data) {
  std::vector<std::uint8_t> out;
  out.reserve(data.size() + data.size() / kMaxLiteral + 1);
  std::vector<std::size_t> table(std::size_t{1} << kHashBits, 0);  // position + 1; 0 = empty
  const std::size_t n = data.size();
  std::size_t literal_begin = 0;
  std::size_t i = 0;
  while (i + kMinMatch <= n) {
    const std::uint32_t prefix = data[i] << 16 | data[i + 1] << 8 | data[i + 2];
    const std::size_t slot = (prefix * 2654435761u) >> (32 - kHashBits);
    const std::size_t candidate = table[slot];
    table[slot] = i + 1;
    if (candidate != 0) {
      const std::size_t ref = candidate - 1;
      const std::size_t distance = i - ref;
      if (distance <= kMaxDistance && std::memcmp(&data[ref], &data[i], kMinMatch) == 0) {
        const std::size_t limit = std::min(kMaxMatch, n - i);
        std::size_t length = kMinMatch;
        while (length < limit && data[ref + length] == data[i + length]) ++length;
        FlushLiterals(data, literal_begin, i, out);
        const std::size_t code = length - 2;
        const std::size_t offset = distance - 1;
        if (code < 7) {
          out.push_back(static_cast<std::uint8_t>(code << 5 | offset >> 8));
        } else {
          out.push_back(static_cast<std::uint8_t>(7 << 5 | offset >> 8));
          out.push_back(static_cast<std::uint8_t>(code - 7));
        }
        out.push_back(static_cast<std::uint8_t>(offset & 0xff));
        i += length;
        literal_begin = i;
        continue;
      }
    }
    ++i;
  }
  FlushLiterals(data, literal_begin, n, out);
  return out;
}

}  // namespace facet::datasets::detail
