// PLACEHOLDER: replaced by the implementation of `recorder replay`.
#include <ostream>

#include "commands.hpp"

namespace ovalstream::recorder {

int run_replay(std::span<const std::string>, std::ostream&, std::ostream& err) {
  err << "recorder replay: not built yet\n";
  return 1;
}

}  // namespace ovalstream::recorder
