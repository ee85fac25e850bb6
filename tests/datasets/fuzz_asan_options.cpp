// AddressSanitizer defaults for datasets_fuzz_test only (see "Memory caps" in
// tests/common/corruption.h): an allocation above 1 GiB fails, as RLIMIT_AS makes it fail in
// release builds. Compiled into the fuzz binary alone, so that ctest and scripts/test.sh both get
// it; ASAN_OPTIONS in the environment add to these flags. Harmless without ASan (nobody calls it).

// The name is ASan's interface.
// NOLINTNEXTLINE(readability-identifier-naming,bugprone-reserved-identifier)
extern "C" const char* __asan_default_options() {
  return "allocator_may_return_null=1:max_allocation_size_mb=1024";
}
