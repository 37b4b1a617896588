#pragma once
#include <cstddef>
#include <cstdint>

namespace demo {

/// A fixed-size vector of floats with a few helpers.
template <std::size_t N>
struct Vector {
  float data[N] = {};

  float dot(const Vector& other) const {
    float sum = 0.0f;
    for (std::size_t i = 0; i < N; ++i) sum += data[i] * other.data[i];
    return sum;
  }
};

}  // namespace demo
