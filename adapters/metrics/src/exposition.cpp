#include "ovalstream/metrics/exposition.hpp"

#include <prometheus/text_serializer.h>

#include <iterator>

namespace ovalstream::metrics {

std::string expose(std::initializer_list<const prometheus::Collectable*> collectables) {
  std::vector<prometheus::MetricFamily> families;
  for (const prometheus::Collectable* collectable : collectables) {
    if (collectable == nullptr) continue;
    auto collected = collectable->Collect();
    families.insert(families.end(), std::make_move_iterator(collected.begin()),
                    std::make_move_iterator(collected.end()));
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace ovalstream::metrics
