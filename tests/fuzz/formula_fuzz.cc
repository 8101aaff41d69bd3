// Fuzz target for the R model formula parser (algorithms/formula.h): any
// bytes must parse or give an error, never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "algorithms/formula.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto formula = spoor::ParseFormula(text);
  if (formula.ok()) {
    // Exercise the derived views too; they walk every part of the result.
    for (const spoor::Term& term : formula->terms) (void)term.Label();
    (void)formula->Variables();
  }
  return 0;
}
