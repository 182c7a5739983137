#pragma once
// The recorder's subcommands. Each parses its own flags (Go syntax; then OVALSTREAM_* and VANTAGE_*
// variables; then the config file) from the arguments after its name, runs, and returns the process exit
// code: 0 done, 1 failed, 2 bad usage.
// Output: --help and usage errors go to `out`/`err`; everything else is JSON-lines logging on stdout.

#include <iosfwd>
#include <span>
#include <string>
#include <vector>

namespace ovalstream::runtime {
class FlagSet;
class Logger;
struct ParseOutcome;
}  // namespace ovalstream::runtime

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

// Every command reads one config file: --config FILE, or $HOME/.eventrecorder.yaml (the Go original's
// recorder was eventrecorder). As one file serves every command, a key naming another command's flag is
// skipped instead of refused.
void add_recorder_config_file(runtime::FlagSet& flags);
// The command's logger ("recorder", writing to `out`; debug lines with `debug`), which has logged what
// parsing left for it: the config file read, deprecated flags used.
runtime::Logger command_logger(const runtime::ParseOutcome& parsed, bool debug, std::ostream& out);

// Each command's flag names, for add_recorder_config_file().
std::vector<std::string> record_flag_names();
std::vector<std::string> replay_flag_names();
std::vector<std::string> serve_flag_names();
std::vector<std::string> simulate_flag_names();

}  // namespace ovalstream::recorder
