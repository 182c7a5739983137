// PLACEHOLDER: replaced by the implementation of `recorder simulate`.
#include <ostream>

#include "commands.hpp"

namespace ovalstream::recorder {

int run_simulate(std::span<const std::string>, std::ostream&, std::ostream& err) {
  err << "recorder simulate: not built yet\n";
  return 1;
}

}  // namespace ovalstream::recorder
