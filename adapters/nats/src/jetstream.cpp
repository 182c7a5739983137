#include "ovalstream/nats/jetstream.hpp"

#include <algorithm>
#include <limits>

namespace ovalstream::nats {
namespace {

StreamInfo to_stream_info(const jsStreamInfo& info) {
  StreamInfo result;
  result.exists = true;
  if (info.Config != nullptr) {
    if (info.Config->Name != nullptr) result.name = info.Config->Name;
    for (int i = 0; i < info.Config->SubjectsLen; ++i) result.subjects.emplace_back(info.Config->Subjects[i]);
  }
  result.first_sequence = info.State.FirstSeq;
  result.last_sequence = info.State.LastSeq;
  result.last_time_ns = info.State.LastTime;
  result.messages = info.State.Msgs;
  result.bytes = info.State.Bytes;
  result.created_ns = info.Created;
  result.consumers = info.State.Consumers;
  return result;
}

std::vector<std::string> sorted(std::vector<std::string> subjects) {
  std::sort(subjects.begin(), subjects.end());
  return subjects;
}

}  // namespace

Result<StreamInfo> stream_info(const Connection& connection, const std::string& stream_name) {
  jsStreamInfo* raw_info = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  const natsStatus s =
      js_GetStreamInfo(&raw_info, connection.jetstream(), stream_name.c_str(), nullptr, &js_error);
  StreamInfoHandle info(raw_info);
  // nats.c maps the server's "stream not found" to NATS_NOT_FOUND; other errors keep their code.
  if (s == NATS_NOT_FOUND || js_error == JSStreamNotFoundErr) return StreamInfo{};
  if (s != NATS_OK) return Error::from_nats(s, "stream info of '" + stream_name + "'", js_error);
  return to_stream_info(*info);
}

Result<StreamInfo> create_stream(const Connection& connection, const std::string& stream_name,
                                 const std::vector<std::string>& subjects) {
  auto same_subjects_or_error = [&](StreamInfo existing) -> Result<StreamInfo> {
    if (sorted(existing.subjects) == sorted(subjects)) return existing;
    return Error{NATS_ERR, JSStreamNameExistErr,
                 "stream '" + stream_name + "' exists with other subjects; not changed"};
  };

  Result<StreamInfo> existing = stream_info(connection, stream_name);
  if (!existing.ok()) return existing;
  if (existing->exists) return same_subjects_or_error(std::move(existing).value());

  std::vector<const char*> subject_pointers;
  for (const auto& subject : subjects) subject_pointers.push_back(subject.c_str());
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = stream_name.c_str();
  config.Subjects = subject_pointers.data();
  config.SubjectsLen = static_cast<int>(subject_pointers.size());
  config.Storage = js_FileStorage;

  jsStreamInfo* raw_info = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  const natsStatus s = js_AddStream(&raw_info, connection.jetstream(), &config, nullptr, &js_error);
  StreamInfoHandle info(raw_info);
  if (s == NATS_OK) return to_stream_info(*info);
  if (js_error == JSStreamNameExistErr) {
    // Created concurrently by someone else: idempotent if it captures the same subjects.
    Result<StreamInfo> raced = stream_info(connection, stream_name);
    if (raced.ok() && raced->exists) return same_subjects_or_error(std::move(raced).value());
  }
  return Error::from_nats(s, "creating stream '" + stream_name + "'", js_error);
}

Result<std::uint64_t> publish(const Connection& connection, const std::string& subject,
                              std::string_view bytes) {
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return Error{NATS_INVALID_ARG, 0, "message for '" + subject + "' is too large for nats.c"};
  }
  jsPubAck* raw_ack = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  const natsStatus s = js_Publish(&raw_ack, connection.jetstream(), subject.c_str(), bytes.data(),
                                  static_cast<int>(bytes.size()), nullptr, &js_error);
  PubAckHandle ack(raw_ack);
  if (s != NATS_OK) return Error::from_nats(s, "publishing to '" + subject + "'", js_error);
  return ack->Sequence;
}

Result<std::int64_t> consumer_count(const Connection& connection, const std::string& stream_name) {
  Result<StreamInfo> info = stream_info(connection, stream_name);
  if (!info.ok()) return std::move(info).error();
  if (!info->exists)
    return Error{NATS_NOT_FOUND, JSStreamNotFoundErr, "stream '" + stream_name + "' not found"};
  return info->consumers;
}

}  // namespace ovalstream::nats
