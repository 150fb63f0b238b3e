#pragma once
// The fuzz body shared by the libFuzzer target (clang) and the replay executable that
// ctest runs with any compiler: bytes in, no crash, no leak, bounded memory.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace weir::net::fuzz {

/// Runs one input through the frame decoder and the codec (see fuzz_net.cpp).
void runOne(const std::uint8_t* data, std::size_t size);

/// Valid inputs to start mutating from: whole handshakes, data frames of every element
/// kind, credit and close frames, bare elements.
std::vector<std::vector<std::uint8_t>> seeds();

}  // namespace weir::net::fuzz
