#pragma once
// The recorder's subcommands. Each parses its own flags (Go syntax, OVALSTREAM_* environment) from the
// arguments after its name, runs, and returns the process exit code: 0 done, 1 failed, 2 bad usage.
// Output: --help and usage errors go to `out`/`err`; everything else is JSON-lines logging on stdout.

#include <iosfwd>
#include <span>
#include <string>

namespace ovalstream::recorder {

// recorder record --file F [--competition ID] [--from-url ws://...]: JetStream (durable) or websocket to
// file.
int run_record(std::span<const std::string> args, std::ostream& out, std::ostream& err);
// recorder replay --file F [--speed N|max] [--from TIME] [--loop] [--address :3000]: file to JetStream or
// websockets.
int run_replay(std::span<const std::string> args, std::ostream& out, std::ostream& err);
// recorder serve --dir D: records every competition continuously and serves recordings and replays over HTTP.
int run_serve(std::span<const std::string> args, std::ostream& out, std::ostream& err);
// recorder simulate --out F [--seed N] [--scope competition|distance] [--distance D] [--start T] [--heats N]:
// writes a simulated competition in the recording format.
int run_simulate(std::span<const std::string> args, std::ostream& out, std::ostream& err);

}  // namespace ovalstream::recorder
