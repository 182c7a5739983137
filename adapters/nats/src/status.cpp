#include "ovalstream/nats/status.hpp"

namespace ovalstream::nats {

Error Error::from_nats(natsStatus code, std::string_view context, int jetstream_error) {
  std::string message(context);
  message += ": ";
  message += natsStatus_GetText(code);
  natsStatus last_code = NATS_OK;
  const char* detail = nats_GetLastError(&last_code);
  // nats.c keeps the last error per thread; use its text only when it is about this failure.
  if (detail != nullptr && *detail != '\0' && last_code == code &&
      message.find(detail) == std::string::npos) {
    message += " (";
    message += detail;
    message += ")";
  }
  if (jetstream_error != 0) message += " [JetStream error " + std::to_string(jetstream_error) + "]";
  return Error{code, jetstream_error, std::move(message)};
}

}  // namespace ovalstream::nats
