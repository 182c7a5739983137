#include "serve/serve_api.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>

#include "ovalstream/core/subject.hpp"
#include "ovalstream/core/utf8.hpp"
#include "ovalstream/runtime/paths.hpp"

namespace ovalstream::recorder {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr std::string_view kRecordingsPath = "/v1/recordings";
constexpr std::string_view kReplaysPath = "/v1/replays";
constexpr std::string_view kJson = "application/json";

void write_string(JsonWriter& writer, std::string_view text) {
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

hub::HttpResponse json_response(unsigned status, std::string body) {
  body.push_back('\n');
  return hub::HttpResponse{status, std::string(kJson), std::move(body), {}};
}

hub::HttpResponse error_response(unsigned status, std::string_view message) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("error");
  // Messages quote the request (a name, an id), which may be any bytes: never echoed raw into JSON.
  write_string(writer, core::to_valid_utf8(message));
  writer.EndObject();
  return json_response(status, buffer.GetString());
}

hub::HttpResponse method_not_allowed(std::string_view allowed) {
  hub::HttpResponse response =
      error_response(405, "method not allowed (allowed: " + std::string(allowed) + ")");
  response.headers.emplace_back("Allow", std::string(allowed));
  return response;
}

void write_summary(JsonWriter& writer, const RecordingSummary& summary) {
  writer.StartObject();
  writer.Key("name");
  write_string(writer, summary.name);
  writer.Key("size");
  writer.Uint64(summary.size_bytes);
  writer.Key("events");
  writer.Uint64(summary.events);
  if (summary.corrupt_lines > 0) {
    writer.Key("corruptLines");
    writer.Uint64(summary.corrupt_lines);
  }
  writer.Key("firstTime");
  if (summary.first_time.empty()) {
    writer.Null();
  } else {
    write_string(writer, summary.first_time);
  }
  writer.Key("lastTime");
  if (summary.last_time.empty()) {
    writer.Null();
  } else {
    write_string(writer, summary.last_time);
  }
  writer.EndObject();
}

void write_status(JsonWriter& writer, const ReplayStatus& status) {
  writer.StartObject();
  writer.Key("id");
  write_string(writer, status.id);
  writer.Key("recording");
  write_string(writer, status.recording);
  writer.Key("speed");
  if (status.speed.unlimited) {
    writer.String("max");
  } else {
    writer.Double(status.speed.factor);
  }
  writer.Key("subjectPrefix");
  write_string(writer, status.subject_prefix);
  writer.Key("state");
  write_string(writer, status.state);
  writer.Key("sent");
  writer.Uint64(status.sent);
  writer.Key("total");
  writer.Uint64(status.total);
  writer.Key("startedAt");
  write_string(writer, status.started_at);
  if (!status.error.empty()) {
    writer.Key("error");
    write_string(writer, status.error);
  }
  writer.EndObject();
}

hub::HttpResponse list_recordings(RecordingCatalog& catalog) {
  std::error_code error;
  const auto summaries = catalog.list(error);
  if (error) return error_response(500, "cannot list the recordings directory: " + error.message());
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartArray();
  for (const auto& summary : summaries) write_summary(writer, summary);
  writer.EndArray();
  return json_response(200, buffer.GetString());
}

hub::HttpResponse download_recording(RecordingCatalog& catalog, std::string_view encoded_name,
                                     const ServeApiOptions& options,
                                     const std::shared_ptr<std::atomic<std::size_t>>& downloads) {
  const auto name = runtime::percent_decode(encoded_name);
  if (!name) return error_response(400, "bad recording name");
  std::error_code error;
  const auto file = catalog.resolve(*name, error);
  if (error == std::errc::invalid_argument) {
    return error_response(
        400, "bad recording name: a relative path ending in .jsonl, as GET /v1/recordings lists");
  }
  if (error) return error_response(404, "no recording " + *name);
  const auto size = std::filesystem::file_size(file, error);
  if (error) return error_response(404, "no recording " + *name);
  if (size > options.max_download_bytes) {
    return error_response(413, "recording too large to download through the API (" + std::to_string(size) +
                                   " bytes); copy it from the volume");
  }
  std::size_t active = downloads->load(std::memory_order_relaxed);
  do {
    if (active >= options.max_downloads) {
      if (options.download_hooks.refused) options.download_hooks.refused();
      hub::HttpResponse busy = error_response(503, "already " + std::to_string(options.max_downloads) +
                                                       " downloads in progress; try again later");
      busy.headers.emplace_back("Retry-After", "5");
      return busy;
    }
  } while (!downloads->compare_exchange_weak(active, active + 1, std::memory_order_relaxed));
  if (options.download_hooks.started) options.download_hooks.started();
  hub::HttpResponse response{200, "application/x-ndjson", {}, {}};
  // Streamed by the hub; the slot is given back once the response is written or the client is gone.
  response.body_file = file.string();
  response.held_until_written = std::shared_ptr<void>(
      static_cast<void*>(nullptr), [downloads, ended = options.download_hooks.ended](void*) {
        downloads->fetch_sub(1, std::memory_order_relaxed);
        if (ended) ended();
      });
  const std::string base_name = std::filesystem::path(*name).filename().string();
  response.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + base_name + "\"");
  return response;
}

hub::HttpResponse status_response(unsigned http_status, const ReplayStatus& status) {
  return json_response(http_status, replay_status_json(status));
}

hub::HttpResponse replays_route(ReplayControl& replays, const hub::Request& request, std::string_view rest) {
  if (rest.empty()) {
    if (request.method == "GET") {
      rapidjson::StringBuffer buffer;
      JsonWriter writer(buffer);
      writer.StartArray();
      for (const auto& status : replays.list()) write_status(writer, status);
      writer.EndArray();
      return json_response(200, buffer.GetString());
    }
    if (request.method == "POST") {
      std::string message;
      const auto replay_request = parse_replay_request(request.body, message);
      if (!replay_request) return error_response(400, message);
      auto result = replays.start(*replay_request);
      if (!result.started) return error_response(result.refusal.http_status, result.refusal.message);
      hub::HttpResponse response = status_response(201, *result.started);
      response.headers.emplace_back("Location", std::string(kReplaysPath) + "/" + result.started->id);
      return response;
    }
    return method_not_allowed("GET, POST");
  }
  const std::string id(rest);
  if (request.method == "GET") {
    const auto status = replays.find(id);
    return status ? status_response(200, *status) : error_response(404, "no replay " + id);
  }
  if (request.method == "DELETE") {
    const auto status = replays.stop(id);
    return status ? status_response(200, *status) : error_response(404, "no replay " + id);
  }
  return method_not_allowed("GET, DELETE");
}

}  // namespace

std::string format_replay_speed(const core::ReplaySpeed& speed) {
  if (speed.unlimited) return "max";
  std::ostringstream text;
  text << speed.factor;
  return text.str();
}

std::string replay_status_json(const ReplayStatus& status) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  write_status(writer, status);
  return buffer.GetString();
}

std::optional<ReplayRequest> parse_replay_request(std::string_view body, std::string& error_message) {
  rapidjson::Document document;
  document.Parse<rapidjson::kParseValidateEncodingFlag>(body.data(), body.size());
  if (document.HasParseError()) {
    error_message = std::string("body is not JSON: ") +
                    rapidjson::GetParseError_En(document.GetParseError()) + " at offset " +
                    std::to_string(document.GetErrorOffset());
    return std::nullopt;
  }
  if (!document.IsObject()) {
    error_message = "body must be a JSON object {\"recording\", \"speed\", \"subjectPrefix\"}";
    return std::nullopt;
  }
  ReplayRequest request;
  bool has_recording = false;
  for (const auto& member : document.GetObject()) {
    const std::string_view key(member.name.GetString(), member.name.GetStringLength());
    const auto& value = member.value;
    if (key == "recording") {
      if (!value.IsString()) {
        error_message = "\"recording\" must be a string (a name from GET /v1/recordings)";
        return std::nullopt;
      }
      request.recording.assign(value.GetString(), value.GetStringLength());
      has_recording = true;
    } else if (key == "speed") {
      if (value.IsString() && std::string_view(value.GetString(), value.GetStringLength()) == "max") {
        request.speed = core::ReplaySpeed::max();
      } else if (value.IsNumber() && value.GetDouble() >= kMinReplaySpeed &&
                 value.GetDouble() <= kMaxReplaySpeed) {
        request.speed = core::ReplaySpeed::times(value.GetDouble());
      } else {
        error_message = "\"speed\" must be a number from 0.01 to 1000, or \"max\"";
        return std::nullopt;
      }
    } else if (key == "subjectPrefix") {
      if (!value.IsString()) {
        error_message = "\"subjectPrefix\" must be a string of subject tokens, e.g. \"replay.r1\"";
        return std::nullopt;
      }
      request.subject_prefix.emplace(value.GetString(), value.GetStringLength());
    } else {
      error_message = "unknown member \"" + std::string(key) + "\" (known: recording, speed, subjectPrefix)";
      return std::nullopt;
    }
  }
  if (!has_recording) {
    error_message = "\"recording\" is required (a name from GET /v1/recordings)";
    return std::nullopt;
  }
  return request;
}

hub::Router make_serve_api_router(std::shared_ptr<RecordingCatalog> catalog,
                                  std::shared_ptr<ReplayControl> replays, ServeApiOptions options) {
  auto downloads = std::make_shared<std::atomic<std::size_t>>(0);
  return [catalog = std::move(catalog), replays = std::move(replays), options,
          downloads](const hub::Request& request) -> hub::Route {
    const std::string_view path = request.path;
    if (request.websocket_upgrade) return error_response(400, "this API is plain HTTP, not websocket");
    if (path == kRecordingsPath || path == std::string(kRecordingsPath) + "/") {
      if (request.method != "GET") return method_not_allowed("GET");
      return list_recordings(*catalog);
    }
    if (path.starts_with(std::string(kRecordingsPath) + "/")) {
      if (request.method != "GET") return method_not_allowed("GET");
      return download_recording(*catalog, path.substr(kRecordingsPath.size() + 1), options, downloads);
    }
    if (path == kReplaysPath) return replays_route(*replays, request, {});
    if (path.starts_with(std::string(kReplaysPath) + "/")) {
      const std::string_view id = path.substr(kReplaysPath.size() + 1);
      if (id.empty() || id.find('/') != std::string_view::npos) return error_response(404, "no such replay");
      return replays_route(*replays, request, id);
    }
    return error_response(404, "not found: try GET /v1/recordings or /v1/replays");
  };
}

}  // namespace ovalstream::recorder
