// WriteFilesAtomically: several files that only make sense together (a COLMAP model's cameras,
// images and points3D) replaced as one, as far as POSIX allows.
//
// Every file is first written in full to `path.tmp` and flushed to disk (core's
// WriteFileAtomically, which fsyncs the data and the folder). Only when all of them are there are
// they renamed over their targets, one rename(2) each, and the folders fsynced again. A failure or
// crash while the temporaries are being written (the long part: serialising and flushing every
// byte) leaves every target as it was; on failure the temporaries are removed. The remaining
// window is the renames themselves: POSIX has no multi-file rename, so a crash between the first
// and the last rename (microseconds, metadata only) leaves some targets new and some old, with the
// rest still in their `.tmp` files.
//
// A candidate for core/file_io.h; it lives here while the COLMAP writers are its only users.
#pragma once

#include <filesystem>
#include <span>
#include <string_view>

namespace facet::datasets::detail {

struct PendingFile {
  std::filesystem::path path{};  // the target; its folder must exist
  std::string_view bytes{};      // the complete new contents (must outlive the call)
};

// Throws facet::Error naming the file when a temporary cannot be written or renamed.
void WriteFilesAtomically(std::span<const PendingFile> files);

}  // namespace facet::datasets::detail
