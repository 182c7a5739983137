// PLACEHOLDER: replaced by the implementation of `recorder record`.
#include <ostream>

#include "commands.hpp"

namespace ovalstream::recorder {

int run_record(std::span<const std::string>, std::ostream&, std::ostream& err) {
  err << "recorder record: not built yet\n";
  return 1;
}

}  // namespace ovalstream::recorder
