// PLACEHOLDER: replaced by the implementation of `recorder serve`.
#include <ostream>

#include "commands.hpp"

namespace ovalstream::recorder {

int run_serve(std::span<const std::string>, std::ostream&, std::ostream& err) {
  err << "recorder serve: not built yet\n";
  return 1;
}

}  // namespace ovalstream::recorder
